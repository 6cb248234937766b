// The Catch2 main of fracta_unit: one binary for every unit suite.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
