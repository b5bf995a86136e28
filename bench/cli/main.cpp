#include "adambench/cli.h"

int main(int argc, char** argv) { return adambench::cli_main(argc, argv, adambench::default_registry()); }
