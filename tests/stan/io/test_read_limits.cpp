// Limits of reading, across the reader and its byte streams: input from memory (what the fuzz
// targets use), the row limit, the supported years and the xz decoder's memory limit.
#include <catch2/catch.hpp>

#include <lzma.h>

#include <string>

#include "compress_text.h"
#include "stan/io/compressed_io.h"
#include "stan/io/flow_io.h"
#include "tensor/error.h"

using Catch::Contains;
using namespace stan;
using stan::testing::xz;

namespace {

const std::string kHeader = "te,td,sa,da,sp,dp,pr,flg,fwd,stos,pkt,byt,label\n";
std::string row(const std::string& te) {
  return te + ",7.0,60.150.71.237,42.219.159.200,32864,80,TCP,....S.,0,0,4,240,background\n";
}

}  // namespace

TEST_CASE("read limits: memory input reads like the file", "[flow_io]") {
  const std::string path = std::string(STAN_TEST_DATA_DIR) + "/stan/fixtures/ugr16_header.csv";
  const FlowTable from_file = read_flows(path);
  std::string bytes;
  {
    ByteSource f(path);
    char buf[4096];
    for (size_t k; (k = f.read(buf, sizeof buf)) > 0;) bytes.append(buf, k);
  }
  for (const std::string& encoded : {bytes, xz(bytes)}) {
    ByteSource src("in-memory.csv", encoded);
    const FlowTable t = read_flows(src);
    CHECK(t.rows == from_file.rows);
    CHECK(t.labels == from_file.labels);
  }
  // Messages name the given name.
  ByteSource bad("buffer.csv", kHeader + row("2016-04-11 00:01:38") + "junk\n");
  REQUIRE_THROWS_WITH(read_flows(bad), Contains("buffer.csv:3: expected 13 columns, got 1"));
  // Truncated compressed data in memory is reported as in a file.
  const std::string cut = xz(bytes).substr(0, 60);
  ByteSource truncated("cut.xz", cut);
  REQUIRE_THROWS_WITH(read_flows(truncated), Contains("cut.xz: truncated or corrupt xz"));
}

TEST_CASE("read limits: more rows than the limit is an error naming it", "[flow_io]") {
  std::string text = kHeader;
  for (int i = 0; i < 5; ++i) text += row("2016-04-11 00:01:3" + std::to_string(i));
  ReadOptions opt;
  opt.row_limit = 5;  // exactly the file: fine
  ByteSource ok("five.csv", text);
  CHECK(read_flows(ok, opt).rows.size() == 5);
  opt.row_limit = 4;
  ByteSource over("five.csv", text);
  REQUIRE_THROWS_WITH(read_flows(over, opt),
                      Contains("five.csv:6: more than 4 flow records, the row limit"));
  // Skipped bad rows do not count towards it.
  opt.skip_bad_rows = true;
  ByteSource mixed("mixed.csv", text + "bad,row\n");
  opt.row_limit = 5;
  CHECK(read_flows(mixed, opt).rows.size() == 5);
}

TEST_CASE("read limits: times outside 1970-2099 are refused", "[flow_io]") {
  for (const char* te : {"0001-01-01 00:00:00", "1969-12-31 23:59:59", "2100-01-01 00:00:00",
                         "9999-12-31 23:59:59"}) {
    INFO(te);
    ByteSource src("t.csv", kHeader + row(te));
    REQUIRE_THROWS_WITH(read_flows(src), Contains("t.csv:2: column 'te': '" + std::string(te) +
                                                  "' is outside the supported years 1970-2099"));
  }
  for (const char* te : {"1970-01-01 00:00:00", "2099-12-31 23:59:59"}) {
    ByteSource src("t.csv", kHeader + row(te));
    CHECK(read_flows(src).rows.size() == 1);
  }
  // Headerless files too (the first row decides the layout, then is checked).
  ByteSource src("n.csv", row("0001-01-01 00:00:00"));
  REQUIRE_THROWS_WITH(read_flows(src), Contains("n.csv:1: column 'te'"));
}

TEST_CASE("read limits: an xz header asking for a huge dictionary is refused", "[flow_io]") {
  std::string f = xz(kHeader + row("2016-04-11 00:01:38"));
  const size_t h = 12, size = (static_cast<uint8_t>(f[h]) + 1) * 4;
  const size_t filter = f.find(std::string("\x21\x01", 2), h);
  REQUIRE(filter != std::string::npos);
  f[filter + 2] = 40;  // LZMA2 dictionary 4 GiB - 1
  const uint32_t crc = lzma_crc32(reinterpret_cast<const uint8_t*>(f.data() + h), size - 4, 0);
  for (int i = 0; i < 4; ++i) f[h + size - 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  ByteSource src("bomb.csv.xz", f);
  REQUIRE_THROWS_WITH(read_flows(src),
                      Contains("bomb.csv.xz: the xz stream needs more than 256 MiB"));
}
