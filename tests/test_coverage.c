/*
 * test_coverage.c -- service coverage analytics (placeholder, filled below).
 */
#include "tgis_int.h"
#include "harness.h"

int main(void)
{
  return harness_report();
}
