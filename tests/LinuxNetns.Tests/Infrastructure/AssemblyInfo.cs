// Tests switch threads between namespaces and check every thread of the process afterwards: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
