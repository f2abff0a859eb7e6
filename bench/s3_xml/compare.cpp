// The S3 XML comparison of docs/architecture.md: fetch/s3_xml.cpp's parse_list_objects_v2 against
// the same listing read with pugixml and with tinyxml2 (Debian libpugixml-dev, libtinyxml2-dev):
// what each gives for awkward documents, and the time to read a 1000-key page.
//
//   compare [FILE...]   FILEs: more answers to read (compare.sh passes the S3 test server's)
#include <tinyxml2.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <pugixml.hpp>
#include <string>
#include <vector>

#include "fetch/s3.h"

namespace {

using aim::fetch::S3Object;

// What a reader gives: the objects and the truncation flag, or an error.
struct Listing {
  std::vector<S3Object> objects;
  bool truncated = false;
  std::string error;
};

std::string show(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7F || c == '|') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string describe(const Listing& l) {
  if (!l.error.empty()) return "error: " + l.error;
  std::string out;
  for (const auto& o : l.objects) out += "`" + show(o.key) + "` " + std::to_string(o.size) + "; ";
  return out + (l.truncated ? "truncated" : "complete");
}

Listing ours(const std::string& xml) {
  auto p = aim::fetch::parse_list_objects_v2(xml);
  if (!p.ok()) return {{}, false, p.error()};
  return {std::move(p->objects), p->truncated, {}};
}

// The libraries' readers as anyone would write them: the element's text, the size through
// std::stoull (as ours did before issue 26), the ETag's quotes stripped.
std::uint64_t size_of(const char* s) {
  try {
    return std::stoull(s);
  } catch (...) {
    return 0;
  }
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

Listing with_pugixml(const std::string& xml) {
  pugi::xml_document doc;
  auto r = doc.load_buffer(xml.data(), xml.size());
  if (!r) return {{}, false, r.description()};
  auto root = doc.child("ListBucketResult");
  if (!root) return {{}, false, "not a ListBucketResult"};
  Listing l;
  for (auto c : root.children("Contents")) {
    l.objects.push_back({c.child("Key").text().get(), size_of(c.child("Size").text().get()),
                         unquote(c.child("ETag").text().get())});
  }
  l.truncated = root.child("IsTruncated").text().as_bool();
  return l;
}

Listing with_tinyxml2(const std::string& xml) {
  tinyxml2::XMLDocument doc;
  if (doc.Parse(xml.data(), xml.size()) != tinyxml2::XML_SUCCESS)
    return {{}, false, doc.ErrorName()};
  auto* root = doc.FirstChildElement("ListBucketResult");
  if (root == nullptr) return {{}, false, "not a ListBucketResult"};
  auto text = [](const tinyxml2::XMLElement* parent, const char* name) {
    auto* e = parent->FirstChildElement(name);
    return e != nullptr && e->GetText() != nullptr ? e->GetText() : "";
  };
  Listing l;
  for (auto* c = root->FirstChildElement("Contents"); c != nullptr;
       c = c->NextSiblingElement("Contents")) {
    l.objects.push_back({text(c, "Key"), size_of(text(c, "Size")), unquote(text(c, "ETag"))});
  }
  l.truncated = std::string(text(root, "IsTruncated")) == "true";
  return l;
}

std::string page(const std::string& key, const std::string& size = "1") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult "
         "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsTruncated>false</IsTruncated>"
         "<Contents><Key>" +
         key + "</Key><Size>" + size + "</Size></Contents></ListBucketResult>";
}

// A page as AWS writes one (every field it sends), `n` keys of model-like names.
std::string aws_page(int n) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>models</Name><Prefix>llama/"
      "</Prefix><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</"
      "NextContinuationToken><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</"
      "IsTruncated>";
  for (int i = 0; i < n; ++i) {
    xml += "<Contents><Key>llama/shards/model-" + std::to_string(i) +
           "-of-01000.safetensors</Key><LastModified>2026-11-30T12:00:00.000Z</LastModified>"
           "<ETag>&quot;2d9c3f2b8a1e4f6d5c7b9a0e1f2d3c4b-" +
           std::to_string(i % 90 + 1) +
           "&quot;</ETag><ChecksumAlgorithm>CRC64NVME</"
           "ChecksumAlgorithm><Size>" +
           std::to_string(4'000'000'000LL + i) +
           "</Size><StorageClass>STANDARD</StorageClass></Contents>";
  }
  return xml + "</ListBucketResult>";
}

template <typename F>
double micros_per_parse(F parse, const std::string& xml) {
  const int rounds = 200;
  std::size_t sink = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) sink += parse(xml).objects.size();
  const auto t1 = std::chrono::steady_clock::now();
  if (sink == 0) std::puts("");
  return std::chrono::duration<double, std::micro>(t1 - t0).count() / rounds;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"&#x1F600; (U+1F600)", page("a&#x1F600;")},
      {"&#128512; (U+1F600)", page("a&#128512;")},
      {"&#0;", page("a&#0;b")},
      {"&#xD800; (a surrogate)", page("a&#xD800;")},
      {"&#x110000; (beyond Unicode)", page("a&#x110000;")},
      {"&nbsp; (undeclared)", page("a&nbsp;")},
      {"bare &", page("a&b")},
      {"CDATA", page("<![CDATA[a<b]]>")},
      {"comment inside the text", page("a<!-- c -->b")},
      {"DOCTYPE with an entity",
       "<!DOCTYPE ListBucketResult [<!ENTITY e \"EXPANDED\">]>" + page("&e;")},
      {"prefixed namespace",
       "<s3:ListBucketResult xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\"><s3:Contents>"
       "<s3:Key>a</s3:Key><s3:Size>1</s3:Size></s3:Contents></s3:ListBucketResult>"},
      {"<Size>-1", page("a", "-1")},
      {"<Size>5x", page("a", "5x")},
      {"<Size>2^64", page("a", "18446744073709551616")},
      {"cut after a <Contents>",
       page("a").substr(0, page("a").size() - std::string("</ListBucketResult>").size())},
      {"mismatched end tag", page("a</Key><Size>1</Size></Content><Contents><Key>b")},
  };
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    cases.emplace_back(argv[i], std::string(std::istreambuf_iterator<char>(in), {}));
  }
  std::printf("| input | ours | pugixml 1.13 | tinyxml2 9.0 |\n|---|---|---|---|\n");
  for (const auto& [name, xml] : cases) {
    std::printf("| %s | %s | %s | %s |\n", name.c_str(), describe(ours(xml)).c_str(),
                describe(with_pugixml(xml)).c_str(), describe(with_tinyxml2(xml)).c_str());
  }
  const std::string big = aws_page(1000);
  if (describe(ours(big)) != describe(with_pugixml(big)) ||
      describe(ours(big)) != describe(with_tinyxml2(big)))
    std::printf("the 1000-key page reads differently!\n");
  std::printf("\n1000-key page (%zu bytes), microseconds per read (best of 5 x 200):\n",
              big.size());
  for (auto [name, parse] :
       std::vector<std::pair<const char*, std::function<Listing(const std::string&)>>>{
           {"ours", ours}, {"pugixml", with_pugixml}, {"tinyxml2", with_tinyxml2}}) {
    double best = 1e18;
    for (int r = 0; r < 5; ++r) best = std::min(best, micros_per_parse(parse, big));
    std::printf("  %-9s %8.0f\n", name, best);
  }
}
