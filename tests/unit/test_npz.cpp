#include "core/npz.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace adambench;
namespace fs = std::filesystem;

namespace {
fs::path temp_file(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("adambench-unit-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d / name;
}
}  // namespace

TEST_CASE("npz: write then read round-trips shapes, dtypes and values") {
  host_tensor a(dtype::float32, {2, 3}), b(dtype::float64, {}), c(dtype::float32, {0}), d(dtype::float64, {4, 0, 2});
  for (int i = 0; i < 6; ++i) a.set(i, i * 0.5 - 1);
  b.set(0, 3.25);
  auto path = temp_file("rt.npz");
  write_npz(path, {{"a", a}, {"b", b}, {"c", c}, {"d", d}});
  auto got = read_npz(path);
  REQUIRE(got.size() == 4);
  CHECK(got.at("a").shape() == shape_t{2, 3});
  CHECK(got.at("a").type() == dtype::float32);
  CHECK(got.at("a").get(5) == 1.5);
  CHECK(got.at("b").shape().empty());
  CHECK(got.at("b").get(0) == 3.25);
  CHECK(got.at("c").numel() == 0);
  CHECK(got.at("d").shape() == shape_t{4, 0, 2});
}

TEST_CASE("npy: headers numpy writes are parsed") {
  host_tensor t(dtype::float32, {5});
  std::string bytes = to_npy(t);
  CHECK(bytes.find("'shape': (5,)") != std::string::npos);
  CHECK((bytes.find('\n') + 1) % 64 == 0);  // numpy aligns the data to 64 bytes
  CHECK(parse_npy(bytes, "x").shape() == shape_t{5});
}

TEST_CASE("npy: float16 as <f2 and bfloat16 as uint16 bit patterns round-trip") {
  for (dtype d : {dtype::float16, dtype::bfloat16}) {
    host_tensor t(d, {3});
    t.set(0, 1.0);
    t.set(1, -0.1);
    t.set(2, 65504.0);
    std::string bytes = to_npy(t);
    CHECK(bytes.find(d == dtype::float16 ? "'<f2'" : "'<u2'") != std::string::npos);
    host_tensor back = parse_npy(bytes, "x");
    REQUIRE(back.type() == d);
    for (int k = 0; k < 3; ++k) CHECK(back.get(k) == t.get(k));
  }
  host_tensor b(dtype::bfloat16, {1});
  b.set(0, 1.0);
  CHECK(*static_cast<const std::uint16_t*>(b.data()) == 0x3f80);  // float32 1.0 is 0x3f800000
}

TEST_CASE("npy: bad arrays are input errors that name the array") {
  host_tensor t(dtype::float64, {3});
  std::string ok = to_npy(t);
  CHECK_THROWS_WITH(parse_npy("hello", "arr"), "arr: not a .npy array");
  CHECK_THROWS_WITH(parse_npy(ok.substr(0, ok.size() - 8), "arr"), Catch::Contains("arr: holds 16 data bytes"));
  std::string ints = ok;
  ints.replace(ints.find("<f8"), 3, "<i8");
  CHECK_THROWS_WITH(parse_npy(ints, "arr"), Catch::StartsWith("arr: dtype '<i8' is not supported: expected float32, float64, float16"));
  std::string fortran = ok;
  fortran.replace(fortran.find("False"), 5, "True ");
  CHECK_THROWS_WITH(parse_npy(fortran, "arr"), Catch::Contains("Fortran-ordered"));
}

TEST_CASE("npz: a file that is not a zip, or missing, is an input error") {
  auto path = temp_file("garbage.npz");
  std::ofstream(path) << "not a zip at all";
  CHECK_THROWS_WITH(read_npz(path), Catch::Contains("not a zip"));
  CHECK_THROWS_WITH(read_npz(temp_file("absent.npz")), Catch::Contains("no such file"));
}
