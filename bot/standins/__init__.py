"""Stand-ins for the outside world, shared by the offline demo, the tests and the benchmarks."""
