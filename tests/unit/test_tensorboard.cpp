#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "adambench/errors.h"
#include "tensorboard/tensorboard.h"

using namespace adambench;

TEST_CASE("crc32c: the Castagnoli check value and TFRecord's mask", "[tensorboard]") {
  // RFC 3720 / the CRC catalogue: CRC-32C("123456789") = 0xE3069283. A plain CRC-32 gives 0xCBF43926.
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c("") == 0u);
  // 32 zero bytes: RFC 3720 B.4 test vector.
  CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);
  const std::uint32_t c = 0xE3069283u;
  CHECK(masked_crc32c("123456789") == static_cast<std::uint32_t>(((c >> 15) | (c << 17)) + 0xa282ead8u));
}

TEST_CASE("tfrecord_frame: length, masked CRC of the length, data, masked CRC of the data", "[tensorboard]") {
  const std::string data = "hello";
  const auto f = tfrecord_frame(data);
  REQUIRE(f.size() == 8 + 4 + 5 + 4);
  std::uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len |= std::uint64_t(static_cast<unsigned char>(f[i])) << (8 * i);
  CHECK(len == 5);
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t(static_cast<unsigned char>(f[at + i])) << (8 * i);
    return v;
  };
  CHECK(u32(8) == masked_crc32c(f.substr(0, 8)));
  CHECK(f.substr(12, 5) == data);
  CHECK(u32(17) == masked_crc32c(data));
}

TEST_CASE("tb_writer: file named like TensorBoard's, whole records only after flush", "[tensorboard]") {
  const auto dir = std::filesystem::temp_directory_path() / ("adambench_tb_unit_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::path path;
  {
    tb_writer w(dir, "run/a");
    path = w.path();
    CHECK(path.parent_path() == dir / "run" / "a");
    CHECK(path.filename().string().rfind("events.out.tfevents.", 0) == 0);
    const auto after_version = std::filesystem::file_size(path);
    CHECK(after_version > 16);  // the file_version record is on disk at once
    w.scalar("train/loss", 1, 0.5);
    CHECK(std::filesystem::file_size(path) == after_version);  // buffered, not half-written
    w.flush();
    CHECK(std::filesystem::file_size(path) > after_version);
  }
  // Two writers in one second get distinct files.
  tb_writer a(dir, "same"), b(dir, "same");
  CHECK(a.path() != b.path());
  std::filesystem::remove_all(dir);
}

TEST_CASE("tb_writer: an unwritable directory is an io_error", "[tensorboard]") {
  const auto dir = std::filesystem::temp_directory_path() / ("adambench_tb_file_" + std::to_string(::getpid()));
  std::ofstream(dir) << "a file, not a directory";
  CHECK_THROWS_AS(tb_writer(dir, "run"), io_error);
  std::filesystem::remove(dir);
}
