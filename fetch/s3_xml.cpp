// ListObjectsV2 answers (XML). S3 and the S3-compatible stores send one flat document: a
// <ListBucketResult> of text-only elements and <Contents> groups of them, without attributes on
// those. This reads exactly that shape, strictly: character data must decode to XML characters
// (the five predefined entities and character references up to U+10FFFF; no NUL, surrogates or
// other non-characters), CDATA sections are text, comments and processing instructions are
// skipped, a DOCTYPE is refused (no entity of the sender's is ever expanded), and a <Size> is a
// byte count or the page is refused. Namespace prefixes (<s3:Key>) are not read: no store sends
// them. docs/architecture.md compares this with pugixml and tinyxml2.
#include <charconv>
#include <cstdint>
#include <limits>

#include "fetch/s3.h"

namespace aim::fetch {
namespace {

constexpr auto npos = std::string_view::npos;

// At most `n` characters of `s`, for messages about someone else's text.
std::string clip(std::string_view s, std::size_t n = 32) {
  return s.size() <= n ? std::string(s) : std::string(s.substr(0, n)) + "...";
}

// Appends the UTF-8 form of a character reference's code point; false when XML 1.0 does not
// allow it as a character (Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
// [#x10000-#x10FFFF]).
bool append_char(std::uint32_t cp, std::string& out) {
  const bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                       (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
  if (!allowed) return false;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return true;
}

// Appends decoded character data (no markup in it).
Result<void, std::string> decode_text(std::string_view s, std::string& out) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto amp = s.find('&', i);
    out.append(s.substr(i, amp == npos ? npos : amp - i));
    if (amp == npos) break;
    i = amp;
    const auto semi = s.find(';', i);
    if (semi == npos) return fail("'&' that starts no reference: \"" + clip(s.substr(i)) + "\"");
    const std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") {
      out.push_back('&');
    } else if (ent == "lt") {
      out.push_back('<');
    } else if (ent == "gt") {
      out.push_back('>');
    } else if (ent == "quot") {
      out.push_back('"');
    } else if (ent == "apos") {
      out.push_back('\'');
    } else if (ent.size() > 1 && ent[0] == '#') {
      const bool hex = ent[1] == 'x';  // XML has a lower-case x only
      const std::string_view digits = ent.substr(hex ? 2 : 1);
      std::uint32_t cp = 0;
      const auto [end, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
          !append_char(cp, out)) {
        return fail("character reference &" + clip(ent) + "; is no XML character");
      }
    } else {
      return fail("unknown entity &" + clip(ent) + ";");
    }
    i = semi;
  }
  return Ok{};
}

// The document with comments and processing instructions removed and CDATA sections turned into
// escaped text, so that every '<' left starts a tag. Most answers have none of these: nullopt,
// read them as they are.
Result<std::optional<std::string>, std::string> flatten(const std::string& xml) {
  if (xml.find("<!") == npos && xml.find("<?", 1) == npos) return std::optional<std::string>();
  std::string out;
  out.reserve(xml.size());
  std::size_t i = 0;
  while (i < xml.size()) {
    const auto lt = xml.find('<', i);
    out.append(xml, i, lt == npos ? npos : lt - i);
    if (lt == npos) break;
    const std::string_view rest = std::string_view(xml).substr(lt);
    auto skip_to = [&](std::string_view end) -> Result<std::size_t, std::string> {
      const auto e = xml.find(end, lt + 2);
      if (e == npos) return fail("unterminated \"" + clip(rest, 9) + "\"");
      return e + end.size();
    };
    if (rest.starts_with("<![CDATA[")) {
      auto next = skip_to("]]>");
      if (!next.ok()) return fail(next.error());
      for (char c : std::string_view(xml).substr(lt + 9, *next - 3 - (lt + 9))) {
        if (c == '&') {
          out += "&amp;";
        } else if (c == '<') {
          out += "&lt;";
        } else {
          out.push_back(c);
        }
      }
      i = *next;
    } else if (rest.starts_with("<!--") || rest.starts_with("<?")) {
      auto next = skip_to(rest[1] == '!' ? "-->" : "?>");
      if (!next.ok()) return fail(next.error());
      i = *next;
    } else if (rest.starts_with("<!")) {
      return fail("a DOCTYPE or other declaration is not read");
    } else {
      out.push_back('<');
      i = lt + 1;
    }
  }
  return std::optional<std::string>(std::move(out));
}

// The decoded text of the first <tag>...</tag> in `s`; nullopt when there is none. Its content
// must be text only.
Result<std::optional<std::string>, std::string> element(std::string_view s, std::string_view tag) {
  std::string open = "<", close = "</";
  open.append(tag).push_back('>');
  close.append(tag).push_back('>');
  const auto b = s.find(open);
  if (b == npos) return std::optional<std::string>();
  const auto lt = s.find('<', b + open.size());
  if (lt == npos || s.substr(lt, close.size()) != close)
    return fail("<" + std::string(tag) + "> does not end in text");
  std::string text;
  auto decoded = decode_text(s.substr(b + open.size(), lt - b - open.size()), text);
  if (!decoded.ok()) return fail("<" + std::string(tag) + ">: " + decoded.error());
  return std::optional<std::string>(std::move(text));
}

// A byte count: decimal digits only, at most int64's maximum (sizes become file offsets).
Result<std::uint64_t, std::string> byte_count(const std::string& s, const std::string& key) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() ||
      v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return fail("<Size> of \"" + clip(key, 200) + "\" is \"" + clip(s) +
                "\", not a byte count (0 to 2^63-1)");
  }
  return v;
}

std::string strip_quotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

Result<S3ListPage, std::string> parse_list_objects_v2(const std::string& body) {
  auto flat = flatten(body);
  if (!flat.ok()) return fail(flat.error());
  const std::string& xml = *flat ? **flat : body;
  if (xml.find("<ListBucketResult") == npos) return fail(std::string("not a ListBucketResult"));
  if (xml.rfind("</ListBucketResult>") == npos)
    return fail(std::string("the ListBucketResult does not end (a cut answer?)"));
  S3ListPage page;
  // The page's own fields are read from what is outside the <Contents> groups.
  std::string outside;
  std::size_t pos = 0;
  while (true) {
    const auto b = xml.find("<Contents>", pos);
    outside.append(xml, pos, b == npos ? npos : b - pos);
    if (b == npos) break;
    const auto e = xml.find("</Contents>", b);
    if (e == npos) return fail(std::string("unterminated <Contents>"));
    const std::string_view c(xml.data() + b, e - b);
    auto key = element(c, "Key");
    if (!key.ok()) return fail(key.error());
    auto size = element(c, "Size");
    if (!size.ok()) return fail(size.error());
    if (!*key || !*size) return fail(std::string("<Contents> without Key or Size"));
    auto bytes = byte_count(**size, **key);
    if (!bytes.ok()) return fail(bytes.error());
    auto etag = element(c, "ETag");
    if (!etag.ok()) return fail(etag.error());
    page.objects.push_back({std::move(**key), *bytes, strip_quotes(etag->value_or(""))});
    pos = e + 11;
  }
  auto truncated = element(outside, "IsTruncated");
  if (!truncated.ok()) return fail(truncated.error());
  const std::string t = truncated->value_or("false");
  if (t != "true" && t != "false")
    return fail("<IsTruncated> is \"" + clip(t) + "\", not true or false");
  page.truncated = t == "true";
  auto token = element(outside, "NextContinuationToken");
  if (!token.ok()) return fail(token.error());
  page.next_token = token->value_or("");
  return page;
}

}  // namespace aim::fetch
