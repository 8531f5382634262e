namespace LinuxNetns.Tests.Infrastructure;

/// <summary>
/// Tests that measure the whole test process (open descriptors, thread counts, allocations of the process) run in
/// this collection: xunit runs it alone, after the parallel collections, so no other test's threads or pipes count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCollection
{
    public const string Name = "Process-wide measurements";
}
