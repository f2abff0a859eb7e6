#include "fetch/partial.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace aim::fetch {

std::vector<ByteRange> plan_ranges(std::uint64_t size, std::uint64_t chunk_size) {
  std::vector<ByteRange> out;
  if (size == 0 || chunk_size == 0) {
    out.push_back({0, size});
    return out;
  }
  for (std::uint64_t b = 0; b < size; b += chunk_size)
    out.push_back({b, std::min(size, b + chunk_size)});
  return out;
}

PartialState PartialState::fresh(std::string path, std::uint64_t size, std::string identity,
                                 std::uint64_t chunk_size) {
  PartialState s;
  s.path = std::move(path);
  s.size = size;
  s.identity = std::move(identity);
  s.chunk_size = chunk_size;
  s.done.assign(plan_ranges(size, chunk_size).size(), 0);
  return s;
}

bool PartialState::matches(std::uint64_t sz, const std::string& id, std::uint64_t cs) const {
  return size == sz && identity == id && chunk_size == cs &&
         done.size() == plan_ranges(sz, cs).size();
}

std::uint64_t PartialState::bytes_done() const {
  std::uint64_t n = 0;
  for (auto d : done) n += d;
  return n;
}

bool PartialState::complete() const {
  auto r = ranges();
  for (size_t i = 0; i < r.size(); ++i)
    if (done[i] < r[i].size()) return false;
  return true;
}

std::string PartialState::to_json() const {
  nlohmann::json j{{"version", 1},
                   {"path", path},
                   {"size", size},
                   {"identity", identity},
                   {"chunkSize", chunk_size},
                   {"done", done}};
  return j.dump();
}

Result<PartialState, std::string> PartialState::from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(std::string("not JSON"));
  try {
    PartialState s;
    if (j.at("version").get<int>() != 1) return fail(std::string("unknown version"));
    s.path = j.at("path").get<std::string>();
    s.size = j.at("size").get<std::uint64_t>();
    s.identity = j.at("identity").get<std::string>();
    s.chunk_size = j.at("chunkSize").get<std::uint64_t>();
    s.done = j.at("done").get<std::vector<std::uint64_t>>();
    auto r = s.ranges();
    if (s.done.size() != r.size()) return fail(std::string("range count does not match size"));
    for (size_t i = 0; i < r.size(); ++i)
      if (s.done[i] > r[i].size()) return fail(std::string("range progress beyond its end"));
    return s;
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("bad record: ") + e.what());
  }
}

Result<void, std::string> save_state(const std::filesystem::path& file, const PartialState& state) {
  const std::string tmp = file.string() + ".tmp";
  const std::string data = state.to_json();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(std::string("open ") + tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return fail(std::string("write ") + tmp + ": " + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0)
    return fail(std::string("rename: ") + std::strerror(errno));
  return Ok{};
}

Result<PartialState, std::string> load_state(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return fail(std::string("no record"));
  std::stringstream ss;
  ss << in.rdbuf();
  return PartialState::from_json(ss.str());
}

}  // namespace aim::fetch
