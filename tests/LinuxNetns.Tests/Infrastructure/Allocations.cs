namespace LinuxNetns.Tests.Infrastructure;

/// <summary>Allocation checks that the runtime's own one-off allocations (a tiering step, a lock's inflation) cannot fail.</summary>
internal static class Allocations
{
    /// <summary>
    /// Bytes allocated on the calling thread by <paramref name="round"/>, the least over <paramref name="rounds"/> runs:
    /// a per-call allocation shows in every round, an occasional runtime one only in some.
    /// </summary>
    public static long LeastOverRounds(Action round, int rounds = 5)
    {
        long least = long.MaxValue;
        for (int i = 0; i < rounds; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            round();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
