// Byte streams over plain, gzip and xz (stan/io/compressed_io.cpp): detection by magic bytes,
// damaged streams named, sinks that publish on commit only, levels and names.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "stan/io/compressed_io.h"
#include "stan/io/flow_io.h"
#include "stan/io/flow_test_util.h"
#include "temp_dir.h"
#include "tensor/error.h"

namespace fs = std::filesystem;
using Catch::Contains;
using stan::FlowRecord;
using stan::FlowTable;
using stan::testing::read_bytes;
using stan::testing::TempDir;
using namespace stan::flow_test;

namespace {

// Everything a source delivers, read `chunk` bytes at a time.
std::string read_all(stan::ByteSource& src, size_t chunk) {
  std::string out, buf(chunk, '\0');
  for (size_t k; (k = src.read(buf.data(), chunk)) > 0;) out.append(buf.data(), k);
  return out;
}

}  // namespace

TEST_CASE("flow_io: compressed input is detected by magic bytes", "[flow_io]") {
  TempDir d;
  const std::string text = read_bytes(kFixtures + "ugr16_header.csv");
  const FlowTable want = stan::read_flows(kFixtures + "ugr16_header.csv");
  for (auto c : {stan::Compression::gzip, stan::Compression::xz}) {
    INFO(stan::compression_name(c));
    // Misleading name: detection must not use the extension.
    const std::string path = d.path(std::string("flows_") + stan::compression_name(c) + ".csv");
    stan::ByteSink sink(path, c);
    sink.write(text);
    sink.commit();
    stan::ByteSource src(path);
    CHECK(src.compression() == c);
    FlowTable got = stan::read_flows(path);
    CHECK(got.rows == want.rows);
    CHECK(got.labels == want.labels);
  }
  // Two gzip members back to back (as `cat a.gz b.gz`) read as one stream.
  std::string header_part = text.substr(0, text.find('\n') + 1);
  stan::ByteSink a(d.path("a.gz"), stan::Compression::gzip);
  a.write(header_part);
  a.commit();
  stan::ByteSink b(d.path("b.gz"), stan::Compression::gzip);
  b.write(text.substr(header_part.size()));
  b.commit();
  const std::string both =
      d.write("both.gz", read_bytes(d.path("a.gz")) + read_bytes(d.path("b.gz")));
  CHECK(stan::read_flows(both).rows == want.rows);
}

TEST_CASE("flow_io: truncated or corrupt gz and xz files are errors naming the file", "[flow_io]") {
  TempDir d;
  const FlowTable tab = random_table(20000, 11);
  for (const char* ext : {"gz", "xz"}) {
    INFO(ext);
    const std::string full = d.path(std::string("full.csv.") + ext);
    stan::write_flows(full, tab);
    const std::string bytes = read_bytes(full);
    REQUIRE(bytes.size() > 1000);
    const std::string what = std::string("truncated or corrupt ") + (ext[0] == 'g' ? "gzip" : "xz");
    for (size_t keep : {bytes.size() / 2, bytes.size() - 1, size_t{8}}) {
      INFO("kept " << keep << " of " << bytes.size() << " bytes");
      const std::string cut = d.write(std::string("cut.csv.") + ext, bytes.substr(0, keep));
      REQUIRE_THROWS_WITH(stan::read_flows(cut), Contains(cut) && Contains(what));
    }
    std::string flipped = bytes;
    flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x55);
    const std::string bad = d.write(std::string("flipped.csv.") + ext, flipped);
    // Garbage may reach the parser before the decoder notices (the checksum comes at the end):
    // skip bad rows so that the stream error is what surfaces.
    stan::ReadOptions skip;
    skip.skip_bad_rows = true;
    REQUIRE_THROWS_WITH(stan::read_flows(bad, skip), Contains(bad) && Contains(what));
  }
}

TEST_CASE("compressed_io: names and extensions", "[compressed_io]") {
  CHECK(std::string(stan::compression_name(stan::Compression::none)) == "plain");
  CHECK(std::string(stan::compression_name(stan::Compression::gzip)) == "gzip");
  CHECK(std::string(stan::compression_name(stan::Compression::xz)) == "xz");
  CHECK(stan::compression_from_extension("flows.csv.gz") == stan::Compression::gzip);
  CHECK(stan::compression_from_extension("flows.csv.xz") == stan::Compression::xz);
  CHECK(stan::compression_from_extension("flows.csv") == stan::Compression::none);
  CHECK(stan::compression_from_extension("flows.gz.csv") == stan::Compression::none);
  CHECK(stan::compression_from_extension("gz") == stan::Compression::none);
}

TEST_CASE("compressed_io: a sink's bytes come back from a source at every level",
          "[compressed_io]") {
  TempDir d;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i * 7919 % 1000) + "\n";
  struct Case {
    stan::Compression c;
    int level;
    const char* name;
  };
  for (const Case& k :
       {Case{stan::Compression::none, -1, "p.csv"}, Case{stan::Compression::gzip, 1, "g1.gz"},
        Case{stan::Compression::gzip, 9, "g9.gz"}, Case{stan::Compression::xz, 0, "x0.xz"},
        Case{stan::Compression::xz, -1, "xd.xz"}}) {
    INFO(k.name << " level " << k.level);
    const std::string path = d.path(k.name);
    {
      stan::ByteSink sink(path, k.c, k.level);
      sink.write(text.substr(0, 1000));
      sink.write(text.data() + 1000, text.size() - 1000);
      CHECK_FALSE(fs::exists(path));  // nothing under the final name before commit
      sink.commit();
    }
    REQUIRE(fs::exists(path));
    const auto size = fs::file_size(path);
    if (k.c == stan::Compression::none)
      CHECK(size == text.size());
    else
      CHECK(size < text.size() / 4);
    for (size_t chunk : {size_t{7}, size_t{65536}}) {
      stan::ByteSource src(path);
      CHECK(src.compression() == k.c);
      CHECK(src.name() == path);
      CHECK(read_all(src, chunk) == text);
      CHECK(src.read(nullptr, 0) == 0);
      CHECK(src.file_bytes_read() == size);  // the whole file, compressed size
    }
  }
}

TEST_CASE("compressed_io: an uncommitted sink leaves nothing", "[compressed_io]") {
  TempDir d;
  for (auto c : {stan::Compression::none, stan::Compression::gzip, stan::Compression::xz}) {
    INFO(stan::compression_name(c));
    {
      stan::ByteSink sink(d.path("abandoned"), c);
      sink.write("some bytes that are never published\n");
    }
    CHECK(d.files().empty());
  }
}

TEST_CASE("compressed_io: bad levels, missing files and folders are errors", "[compressed_io]") {
  TempDir d;
  REQUIRE_THROWS_WITH(stan::ByteSink(d.path("a.gz"), stan::Compression::gzip, 0),
                      Contains("[ByteSink] gzip level must be 1-9, got 0"));
  REQUIRE_THROWS_WITH(stan::ByteSink(d.path("a.gz"), stan::Compression::gzip, 10),
                      Contains("[ByteSink] gzip level must be 1-9, got 10"));
  REQUIRE_THROWS_WITH(stan::ByteSink(d.path("a.xz"), stan::Compression::xz, 10),
                      Contains("[ByteSink] xz preset must be 0-9, got 10"));
  REQUIRE_THROWS_WITH(stan::ByteSource(d.path("none.csv")),
                      Contains("cannot open '" + d.path("none.csv") + "': No such file"));
  REQUIRE_THROWS_WITH(stan::ByteSource(d.dir.string()),
                      "cannot open '" + d.dir.string() + "': is a folder, not a file");
}

TEST_CASE("compressed_io: short and empty inputs are plain", "[compressed_io]") {
  const std::string abc = "abc";
  stan::ByteSource short_src("short", abc);
  CHECK(short_src.compression() == stan::Compression::none);
  CHECK(short_src.name() == "short");
  CHECK(read_all(short_src, 2) == "abc");
  const std::string none;
  stan::ByteSource empty("empty", none);
  CHECK(empty.compression() == stan::Compression::none);
  char c = 0;
  CHECK(empty.read(&c, 1) == 0);
  // Only the two gzip magic bytes: gzip, and a stream that ends too soon.
  const std::string magic("\x1f\x8b", 2);
  stan::ByteSource gz("magic.gz", magic);
  CHECK(gz.compression() == stan::Compression::gzip);
  REQUIRE_THROWS_WITH(read_all(gz, 16), Contains("magic.gz: truncated or corrupt gzip"));
}
