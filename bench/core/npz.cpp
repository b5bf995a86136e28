#include "core/npz.h"

#include "adambench/errors.h"
#include "core/results.h"

#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <regex>
#include <unistd.h>
#include <zip.h>

namespace adambench {

namespace {
// Names and descriptors come from the file: control characters are escaped (fmt's debug format,
// without its quotes) so an error stays one line.
std::string printable(const std::string& s) {
  const std::string q = fmt::format("{:?}", s);
  return q.substr(1, q.size() - 2);
}
}  // namespace

host_tensor parse_npy(const std::string& b, const std::string& what) {
  // Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0)
    throw input_error(fmt::format("{}: not a .npy array", what));
  const unsigned major = static_cast<unsigned char>(b[6]);
  std::size_t hlen = 0, start = 0;
  if (major == 1) {
    hlen = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw input_error(fmt::format("{}: truncated .npy header", what));
    for (int i = 3; i >= 0; --i) hlen = (hlen << 8) | static_cast<unsigned char>(b[8 + i]);
    start = 12;
  } else {
    throw input_error(fmt::format("{}: unsupported .npy version {}", what, major));
  }
  if (start + hlen > b.size()) throw input_error(fmt::format("{}: truncated .npy header", what));
  const std::string h = b.substr(start, hlen);
  std::smatch m;
  if (!std::regex_search(h, m, std::regex(R"('descr'\s*:\s*'([^']*)')")))
    throw input_error(fmt::format("{}: .npy header has no descr", what));
  const std::string descr = m[1];
  dtype d;
  if (descr == "<f4" || descr == "=f4") d = dtype::float32;
  else if (descr == "<f8" || descr == "=f8") d = dtype::float64;
  else if (descr == "<f2" || descr == "=f2") d = dtype::float16;
  // numpy has no bfloat16: bfloat16 arrays travel as uint16 bit patterns (the upper half of the
  // float32 bits, x.view(torch.int16).numpy().view(np.uint16)); no Adam tensor is a uint16 array.
  else if (descr == "<u2" || descr == "=u2") d = dtype::bfloat16;
  else throw input_error(fmt::format("{}: dtype '{}' is not supported: expected float32, float64, float16, or "
                                     "uint16 holding bfloat16 bits", what, printable(descr)));
  if (std::regex_search(h, m, std::regex(R"('fortran_order'\s*:\s*True)")))
    throw input_error(fmt::format("{}: Fortran-ordered arrays are not supported: save with np.ascontiguousarray", what));
  if (!std::regex_search(h, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
    throw input_error(fmt::format("{}: .npy header has no shape", what));
  shape_t shape;
  const std::string dims = m[1];
  std::regex num(R"(\d+)");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it)
    shape.push_back(std::stoll(it->str()));
  host_tensor t(d, shape);
  const std::size_t bytes = static_cast<std::size_t>(t.numel()) * size_of(d);
  const std::size_t data_at = start + hlen;
  if (b.size() - data_at != bytes)
    throw input_error(fmt::format("{}: holds {} data bytes, shape {} {} needs {}", what, b.size() - data_at,
                                  shape_string(shape), to_string(d), bytes));
  if (bytes) std::memcpy(t.data(), b.data() + data_at, bytes);
  return t;
}

namespace {
const char* npy_descr(dtype d) {
  switch (d) {
    case dtype::float32: return "<f4";
    case dtype::float64: return "<f8";
    case dtype::float16: return "<f2";
    case dtype::bfloat16: return "<u2";  // bit patterns (see parse_npy)
  }
  return "<f4";
}
}  // namespace

std::string to_npy(const host_tensor& t) {
  std::string shape;  // numpy's spelling: "()", "(5,)", "(2, 3)"
  for (std::size_t i = 0; i < t.shape().size(); ++i) shape += fmt::format("{}{}", i ? ", " : "", t.shape()[i]);
  if (t.shape().size() == 1) shape += ",";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}",
                                   npy_descr(t.type()), shape);
  // Pad with spaces so magic + length + header + '\n' is a multiple of 64 (numpy's alignment).
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(static_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * size_of(t.type()));
  return out;
}

std::map<std::string, std::string> read_npz_bytes(const std::filesystem::path& path) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!z) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string why = err == ZIP_ER_NOENT ? "no such file" : err == ZIP_ER_NOZIP ? "not a zip (npz) file" : zip_error_strerror(&ze);
    zip_error_fini(&ze);
    throw input_error(fmt::format("{}: {}", path.string(), why));
  }
  std::map<std::string, std::string> out;
  try {
    const zip_int64_t n = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
      zip_stat_t st;
      if (zip_stat_index(z, i, 0, &st) != 0) throw input_error(fmt::format("{}: unreadable entry {}", path.string(), i));
      std::string name = st.name;
      if (name.size() < 4 || name.substr(name.size() - 4) != ".npy")
        throw input_error(fmt::format("{}: entry '{}' is not a .npy array", path.string(), printable(name)));
      zip_file_t* f = zip_fopen_index(z, i, 0);
      if (!f) throw input_error(fmt::format("{}: cannot open entry '{}'", path.string(), printable(name)));
      std::string bytes(st.size, '\0');
      const zip_int64_t got = zip_fread(f, bytes.data(), st.size);
      zip_fclose(f);
      if (got != static_cast<zip_int64_t>(st.size)) throw input_error(fmt::format("{}: entry '{}' is truncated", path.string(), printable(name)));
      name.resize(name.size() - 4);
      out.emplace(name, std::move(bytes));
    }
  } catch (...) {
    zip_discard(z);
    throw;
  }
  zip_discard(z);
  return out;
}

std::map<std::string, host_tensor> read_npz(const std::filesystem::path& path) {
  std::map<std::string, host_tensor> out;
  for (auto& [name, bytes] : read_npz_bytes(path)) out.emplace(name, parse_npy(bytes, fmt::format("{}: array {}", path.string(), printable(name))));
  return out;
}

void write_npz(const std::filesystem::path& path, const std::map<std::string, host_tensor>& arrays) {
  std::string bytes;
  {
    // Build in a temporary zip file, then read it back and write atomically with the other
    // results: libzip writes its own temporary and renames, but not into a folder we create.
    std::filesystem::path tmp = std::filesystem::temp_directory_path() / fmt::format("adambench-{}.npz", ::getpid());
    int err = 0;
    zip_t* z = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) throw input_error(fmt::format("cannot create {}", tmp.string()));
    std::vector<std::string> blobs;
    blobs.reserve(arrays.size());
    for (auto& [name, t] : arrays) {
      blobs.push_back(to_npy(t));
      zip_source_t* s = zip_source_buffer(z, blobs.back().data(), blobs.back().size(), 0);
      zip_int64_t idx = s ? zip_file_add(z, (name + ".npy").c_str(), s, ZIP_FL_OVERWRITE) : -1;
      if (idx < 0) {
        if (s) zip_source_free(s);
        zip_discard(z);
        throw input_error(fmt::format("cannot add {} to {}", name, tmp.string()));
      }
      zip_set_file_compression(z, idx, ZIP_CM_STORE, 0);
    }
    if (zip_close(z) != 0) {
      std::string why = zip_strerror(z);
      zip_discard(z);
      throw input_error(fmt::format("cannot write {}: {}", tmp.string(), why));
    }
    std::ifstream f(tmp, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
    std::filesystem::remove(tmp);
  }
  write_file_atomic(path, bytes);
}

}  // namespace adambench
