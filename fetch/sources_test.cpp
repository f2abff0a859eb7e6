#include <gtest/gtest.h>

#include <map>

#include "core/base64.h"
#include "fetch/credentials.h"
#include "fetch/hf.h"
#include "fetch/https_source.h"
#include "fetch/ngc.h"
#include "fetch/s3.h"

namespace aim::fetch {
namespace {

EnvLookup env_of(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(HfRevisionInfo, ParsesSiblingsWithLfsAndGitBlobs) {
  const std::string body =
      R"({"id":"org/m","sha":"0123456789abcdef0123456789abcdef01234567","siblings":[
    {"rfilename":"config.json","size":12,"blobId":"ce013625030ba8dba906f756967f9e9ca394464a"},
    {"rfilename":"model.safetensors","size":134,"blobId":"ffff","lfs":{"sha256":"aa","size":1048576,"pointerSize":134}},
    {"rfilename":"sub dir/x.txt"}]})";
  auto l = HfSource::parse_revision_info(body, "org/m", "http://hub");
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->revision, "0123456789abcdef0123456789abcdef01234567");
  ASSERT_EQ(l->files.size(), 3u);
  EXPECT_EQ(l->files[0].git_sha1, "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_EQ(l->files[0].size, 12u);
  EXPECT_EQ(l->files[0].url,
            "http://hub/org/m/resolve/0123456789abcdef0123456789abcdef01234567/config.json");
  EXPECT_EQ(l->files[1].sha256, "aa");
  EXPECT_EQ(l->files[1].size, 1048576u);
  EXPECT_TRUE(l->files[1].git_sha1.empty());
  EXPECT_EQ(l->files[1].identity, "sha256:aa");
  EXPECT_FALSE(l->files[2].size_known);
  EXPECT_NE(l->files[2].url.find("sub%20dir/x.txt"), std::string::npos);
  EXPECT_FALSE(HfSource::parse_revision_info("[]", "org/m", "http://hub").ok());
}

TEST(NgcAnswers, ParseTheDocumentedShapes) {
  auto token = NgcSource::parse_token(R"({"token":"t0k","expires_in":300})");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, "t0k");
  auto version = NgcSource::parse_latest_version(R"({"model":{"latestVersionIdStr":"1.1"}})");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, "1.1");
  Listing l;
  l.revision = "1.1";
  auto pages = NgcSource::parse_files_page(
      R"({"modelFiles":[{"path":"a b.bin","sizeInBytes":7,"sha256":"aa"},{"path":"c","sizeInBytes":0}],
          "paginationInfo":{"index":0,"size":2,"totalPages":3}})",
      "http://ngc/files", l);
  ASSERT_TRUE(pages.ok()) << pages.error().message;
  EXPECT_EQ(*pages, 3);
  ASSERT_EQ(l.files.size(), 2u);
  EXPECT_EQ(l.files[0].url, "http://ngc/files/a%20b.bin");
  EXPECT_EQ(l.files[0].size, 7u);
  EXPECT_EQ(l.files[0].identity, "ngc:1.1:aa:7");
  EXPECT_TRUE(l.files[1].sha256.empty());
  auto single = NgcSource::parse_files_page(R"({"modelFiles":[]})", "http://ngc/files", l);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(*single, 1);
}

// Before, each of these threw nlohmann::json::type_error out of list() (an answer of the wrong
// shape from a server or a proxy); now each is a Failure that names what is wrong.
TEST(NgcAnswers, AnyOtherShapeIsAFailureThatSaysWhatIsWrong) {
  EXPECT_EQ(NgcSource::parse_token(R"({"token":7})").error().cls, FailureClass::kAuth);
  EXPECT_FALSE(NgcSource::parse_token("not json").ok());
  EXPECT_FALSE(NgcSource::parse_latest_version(R"({"model":{"latestVersionIdStr":11}})").ok());
  EXPECT_FALSE(NgcSource::parse_latest_version(R"({"model":"x"})").ok());
  EXPECT_FALSE(NgcSource::parse_latest_version(R"([1])").ok());
  const std::pair<const char*, const char*> bad[] = {
      {R"([])", "no modelFiles array"},
      {R"({"modelFiles":{}})", "no modelFiles array"},
      {R"({"modelFiles":[7]})", "entry 0 has no path"},
      {R"({"modelFiles":[{"path":3,"sizeInBytes":1}]})", "entry 0 has no path"},
      {R"({"modelFiles":[{"path":"a","sizeInBytes":-1}]})", "no non-negative sizeInBytes"},
      {R"({"modelFiles":[{"path":"a","sizeInBytes":"5"}]})", "no non-negative sizeInBytes"},
      {R"({"modelFiles":[{"path":"a","sizeInBytes":5,"sha256":[]}]})", "not a string"},
      {R"({"modelFiles":[],"paginationInfo":{"totalPages":"2"}})", "totalPages is not a count"},
      {R"({"modelFiles":[],"paginationInfo":{"totalPages":-4}})", "totalPages is not a count"},
  };
  for (const auto& [body, why] : bad) {
    Listing l;
    auto r = NgcSource::parse_files_page(body, "http://ngc/files", l);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << body << ": " << r.error().message;
  }
}

TEST(S3ListObjectsV2, ParsesContentsAndContinuation) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>m/</Prefix>
<IsTruncated>true</IsTruncated><NextContinuationToken>tok&amp;1</NextContinuationToken>
<Contents><Key>m/a&amp;b.bin</Key><Size>10</Size><ETag>&quot;900150983cd24fb0d6963f7d28e17f72&quot;</ETag></Contents>
<Contents><Key>m/big.bin</Key><ETag>"abc-3"</ETag><Size>99</Size></Contents></ListBucketResult>)";
  auto p = parse_list_objects_v2(xml);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_TRUE(p->truncated);
  EXPECT_EQ(p->next_token, "tok&1");
  ASSERT_EQ(p->objects.size(), 2u);
  EXPECT_EQ(p->objects[0].key, "m/a&b.bin");
  EXPECT_EQ(p->objects[0].etag, "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(p->objects[1].size, 99u);
  EXPECT_EQ(p->objects[1].etag, "abc-3");
  EXPECT_FALSE(parse_list_objects_v2("<Error><Code>AccessDenied</Code></Error>").ok());
}

// A page of one object whose <Key> content and <Size> text are given.
std::string s3_page(const std::string& key, const std::string& size) {
  return "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>" + key +
         "</Key><Size>" + size + "</Size></Contents></ListBucketResult>";
}

// Issue 26: the fuzzers showed character references above U+FFFF encoded in three bytes (the
// top bits lost), and references that are no XML character (&#0;, surrogates, beyond U+10FFFF)
// passed as bytes.
TEST(S3ListObjectsV2, CharacterReferencesDecodeToUtf8AndNonCharactersAreRefused) {
  auto p = parse_list_objects_v2(s3_page("a&#x1F600;b&#128512;&#xe9;&#x20AC;&#10;&#x10FFFF;", "1"));
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->objects[0].key,
            "a\xF0\x9F\x98\x80"
            "b\xF0\x9F\x98\x80\xC3\xA9\xE2\x82\xAC\n\xF4\x8F\xBF\xBF");
  for (const char* bad :
       {"&#0;", "&#x0;", "&#xD800;", "&#xDFFF;", "&#x110000;", "&#xFFFE;", "&#x1;", "&#;", "&#x;",
        "&#xZZ;", "&#X41;", "&#-65;", "&#+65;", "&#4294967361;", "&nbsp;", "a&b", "&amp"}) {
    auto r = parse_list_objects_v2(s3_page(std::string("k") + bad, "1"));
    ASSERT_FALSE(r.ok()) << bad << " gave " << r->objects[0].key;
    EXPECT_NE(r.error().find("<Key>"), std::string::npos) << r.error();
  }
}

// Issue 26: std::stoull took "-1" as 18446744073709551615 (and " 5", "5x" as 5).
TEST(S3ListObjectsV2, SizeIsAByteCountOrThePageIsRefused) {
  for (const char* bad : {"-1", "+5", " 5", "5 ", "5x", "", "0x10", "1e3", "9223372036854775808",
                          "18446744073709551616", "99999999999999999999999"}) {
    auto r = parse_list_objects_v2(s3_page("m/x", bad));
    ASSERT_FALSE(r.ok()) << "<Size>" << bad << "</Size> gave " << r->objects[0].size;
    EXPECT_EQ(r.error(),
              std::string("<Size> of \"m/x\" is \"") + bad + "\", not a byte count (0 to 2^63-1)");
  }
  auto max = parse_list_objects_v2(s3_page("m/x", "9223372036854775807"));
  ASSERT_TRUE(max.ok()) << max.error();
  EXPECT_EQ(max->objects[0].size, 9223372036854775807u);
  auto zero = parse_list_objects_v2(s3_page("m/x", "0"));
  ASSERT_TRUE(zero.ok()) << zero.error();
  EXPECT_EQ(zero->objects[0].size, 0u);
}

// XML that no store sends today but that is XML all the same: CDATA is text, comments and
// processing instructions are nothing, and markup hidden in either never counts. A DOCTYPE (and
// so any entity of the sender's) is refused, as is a cut answer.
TEST(S3ListObjectsV2, CdataCommentsAndDeclarations) {
  auto p = parse_list_objects_v2(
      "<?xml version=\"1.0\"?><!-- <Contents><Key>no</Key><Size>1</Size></Contents> -->"
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key><![CDATA[a<b&amp;"
      "<IsTruncated>true</IsTruncated>]]>&amp;c</Key><?pi <Size>7</Size>?><Size>3</Size>"
      "</Contents></ListBucketResult>");
  ASSERT_TRUE(p.ok()) << p.error();
  ASSERT_EQ(p->objects.size(), 1u);
  EXPECT_EQ(p->objects[0].key, "a<b&amp;<IsTruncated>true</IsTruncated>&c");
  EXPECT_EQ(p->objects[0].size, 3u);
  EXPECT_FALSE(p->truncated);
  EXPECT_FALSE(
      parse_list_objects_v2("<!DOCTYPE l [<!ENTITY e \"x\">]><ListBucketResult></ListBucketResult>")
          .ok());
  EXPECT_FALSE(parse_list_objects_v2("<ListBucketResult><Contents><Key><![CDATA[a</Key>").ok());
  EXPECT_FALSE(
      parse_list_objects_v2("<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents>")
          .ok());
  EXPECT_FALSE(parse_list_objects_v2("<ListBucketResult><Contents><Key>a<b>x</b></Key>"
                                     "<Size>1</Size></Contents></ListBucketResult>")
                   .ok());
  EXPECT_FALSE(parse_list_objects_v2("<ListBucketResult><IsTruncated>yes</IsTruncated>"
                                     "</ListBucketResult>")
                   .ok());
}

// What the S3 test server (gofakes3, Go's encoding/xml) sends for awkward keys.
TEST(S3ListObjectsV2, KeysAsGoEncodingXmlEscapesThem) {
  auto p = parse_list_objects_v2(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n  <Name>models</Name>\n"
      "  <IsTruncated>false</IsTruncated>\n"
      "  <Contents>\n    <Key>m/quote&#34;s&#39;&#x9;&#xA;&lt;x&gt;&amp; \xF0\x9F\x98\x80</Key>\n"
      "    <ETag>&#34;5d41402abc4b2a76b9719d911017c592&#34;</ETag>\n    <Size>5</Size>\n"
      "  </Contents>\n</ListBucketResult>");
  ASSERT_TRUE(p.ok()) << p.error();
  ASSERT_EQ(p->objects.size(), 1u);
  EXPECT_EQ(p->objects[0].key, "m/quote\"s'\t\n<x>& \xF0\x9F\x98\x80");
  EXPECT_EQ(p->objects[0].etag, "5d41402abc4b2a76b9719d911017c592");
}

TEST(S3Source, PathStyleRequestsAgainstACustomEndpointAreSigned) {
  auto uri = parse_source_uri("s3://models/llama").value();
  S3Config c;
  c.credentials = {"AK", "SK", ""};
  c.endpoint = "http://127.0.0.1:9000";
  c.path_style = true;
  S3Source s(uri, c);
  auto req = s.signed_request("GET", "llama/a b.bin", {}, {{"range", "bytes=0-9"}},
                              std::chrono::system_clock::from_time_t(1700000000));
  EXPECT_EQ(req.url, "http://127.0.0.1:9000/models/llama/a%20b.bin");
  bool auth = false;
  for (auto& [k, v] : req.headers)
    if (k == "Authorization") {
      auth = true;
      EXPECT_NE(v.find("Credential=AK/20231114/us-east-1/s3/aws4_request"), std::string::npos);
      EXPECT_NE(v.find("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date"),
                std::string::npos);
    }
  EXPECT_TRUE(auth);
}

TEST(S3Source, VirtualHostedOnAwsAndAnonymousWithoutCredentials) {
  auto uri = parse_source_uri("s3://models/llama").value();
  S3Config c;
  c.region = "eu-west-1";
  S3Source s(uri, c);
  auto req = s.signed_request("GET", "", {{"list-type", "2"}, {"prefix", "llama/"}}, {},
                              std::chrono::system_clock::now());
  EXPECT_EQ(req.url, "https://models.s3.eu-west-1.amazonaws.com/?list-type=2&prefix=llama%2F");
  for (auto& [k, v] : req.headers) EXPECT_NE(k, "Authorization");
}

TEST(S3Checksum, FullObjectChecksumsArePreferredStrongestFirst) {
  http::Headers h;
  h.add("x-amz-checksum-crc32c", "4waSgw==");
  h.add("x-amz-checksum-crc64nvme", "rosUhgp5mIg=");  // CRC-64/NVME("123456789")
  RemoteFile f;
  f.md5 = "ignored";
  ASSERT_TRUE(take_s3_checksum(h, f));
  ASSERT_TRUE(f.checksum_algorithm.has_value());
  EXPECT_EQ(*f.checksum_algorithm, DigestAlgorithm::kCrc64Nvme);
  EXPECT_EQ(f.checksum, "ae8b14860a799888");
  EXPECT_TRUE(f.sha256.empty());

  h.add("x-amz-checksum-sha256", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=");
  RemoteFile g;
  ASSERT_TRUE(take_s3_checksum(h, g));
  EXPECT_EQ(g.sha256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225");
  EXPECT_FALSE(g.checksum_algorithm.has_value());
}

TEST(S3Checksum, CompositeMalformedOrAbsentChecksumsAreNotTaken) {
  RemoteFile f;
  http::Headers none;
  EXPECT_FALSE(take_s3_checksum(none, f));
  http::Headers composite;  // per-part checksums of a multipart upload say nothing of the whole
  composite.add("x-amz-checksum-type", "COMPOSITE");
  composite.add("x-amz-checksum-crc32c", "4waSgw==");
  EXPECT_FALSE(take_s3_checksum(composite, f));
  http::Headers suffixed;  // the older "<base64>-<parts>" spelling of a composite value
  suffixed.add("x-amz-checksum-crc32c", "4waSgw==-3");
  EXPECT_FALSE(take_s3_checksum(suffixed, f));
  http::Headers short_value;  // a CRC-64 header with 4 bytes is not a CRC-64
  short_value.add("x-amz-checksum-crc64nvme", "4waSgw==");
  EXPECT_FALSE(take_s3_checksum(short_value, f));
  EXPECT_FALSE(f.checksum_algorithm.has_value());
  EXPECT_TRUE(f.sha256.empty());
}

TEST(Credentials, HfTokenPrecedenceAndEndpoint) {
  EXPECT_EQ(hf_token(env_of({{"HF_TOKEN", "a"}, {"HUGGING_FACE_HUB_TOKEN", "b"}})), "a");
  EXPECT_EQ(hf_token(env_of({{"HUGGING_FACE_HUB_TOKEN", "b"}})), "b");
  EXPECT_FALSE(hf_token(env_of({{"HOME", "/nonexistent"}})).has_value());
  EXPECT_EQ(hf_endpoint(env_of({})), "https://huggingface.co");
  EXPECT_EQ(hf_endpoint(env_of({{"HF_ENDPOINT", "http://127.0.0.1:1/"}})), "http://127.0.0.1:1");
}

TEST(Credentials, S3FromEnvironment) {
  auto c = s3_config(env_of({{"AWS_ACCESS_KEY_ID", "AK"},
                             {"AWS_SECRET_ACCESS_KEY", "SK"},
                             {"AWS_SESSION_TOKEN", "T"},
                             {"AWS_REGION", "eu-central-1"},
                             {"AWS_ENDPOINT_URL", "http://127.0.0.1:9000/"}}));
  EXPECT_EQ(c.credentials.access_key_id, "AK");
  EXPECT_EQ(c.credentials.session_token, "T");
  EXPECT_EQ(c.region, "eu-central-1");
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:9000");
  EXPECT_TRUE(c.path_style);
  auto d = s3_config(env_of({{"HOME", "/nonexistent"}}));
  EXPECT_TRUE(d.credentials.empty());
  EXPECT_FALSE(d.path_style);
  EXPECT_EQ(d.region, "us-east-1");
}

TEST(Credentials, HttpsTokenAndSignedUrlFromTheEnvironmentNeverTheUri) {
  auto none = https_credentials(env_of({}));
  EXPECT_FALSE(none.bearer_token);
  EXPECT_EQ(https_fetch_url("https://h/m.gguf", none).value(), "https://h/m.gguf");
  auto creds = https_credentials(
      env_of({{"HTTPS_TOKEN", "tok"}, {"AIM_SIGNED_URL", "https://h/m.gguf?X-Amz-Signature=s"}}));
  EXPECT_EQ(creds.bearer_token.value_or(""), "tok");
  EXPECT_EQ(https_fetch_url("https://h/m.gguf", creds).value(),
            "https://h/m.gguf?X-Amz-Signature=s");
  // A signed URL for another file is refused, and the message shows neither query.
  auto other = https_fetch_url("https://h/other.gguf?x=1", creds);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().find("https://h/m.gguf, not https://h/other.gguf"), std::string::npos)
      << other.error();
  EXPECT_EQ(other.error().find("X-Amz-Signature"), std::string::npos);
}

TEST(Sha256List, ParsesSha256sumOutput) {
  auto m = parse_sha256_list(
      "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD  model.bin\n"
      "# comment\n"
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad *other.bin\n");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->at("model.bin"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(m->count("other.bin"));
  EXPECT_FALSE(parse_sha256_list("xyz  a\n").ok());
}

TEST(HttpsSource, FileNameFromUrl) {
  EXPECT_EQ(HttpsSource::file_name_of("https://h/models/model.tar.gz?sig=1"), "model.tar.gz");
  EXPECT_EQ(HttpsSource::file_name_of("https://h/"), "download");
  EXPECT_EQ(HttpsSource::file_name_of("https://h"), "download");
}

}  // namespace
}  // namespace aim::fetch
