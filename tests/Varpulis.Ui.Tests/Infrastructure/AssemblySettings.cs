// The browser tests' collections (one server, one cluster) run one after the other: each starts real processes and a
// Chromium, and together they would compete for a small machine's cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
