# Writes OUT: a C++ table of (kind, JSON Schema text) for every schemas/KIND.schema.json in FILES,
# so an installed binary validates result files without the source tree.
set(_src "#include <string_view>\n#include <utility>\nnamespace adambench {\nextern const std::pair<std::string_view, std::string_view> embedded_schemas[];\nextern const int embedded_schema_count;\nconst std::pair<std::string_view, std::string_view> embedded_schemas[] = {\n")
set(_n 0)
foreach(_f ${FILES})
  get_filename_component(_name ${_f} NAME)
  string(REGEX REPLACE "\\.schema\\.json$" "" _kind "${_name}")
  file(READ ${_f} _text)
  set(_src "${_src}  {\"${_kind}\", R\"adambench_schema(${_text})adambench_schema\"},\n")
  math(EXPR _n "${_n} + 1")
endforeach()
set(_src "${_src}  {\"\", \"\"}};\nconst int embedded_schema_count = ${_n};\n}\n")
file(WRITE ${OUT} "${_src}")
