using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>
/// Two threads creating one name while a third deletes it: every create that returns owns the name's only mount
/// (never one stacked on another create's), and every failure is an exception that Create or Delete documents.
/// </summary>
public sealed class CreateDeleteRaceTests : NamespaceTest
{
    [RootFact]
    public void Creates_racing_a_delete_never_stack_mounts_and_throw_only_documented_exceptions()
    {
        string name = NewName("race");
        string mountPoint = $"/run/netns/{name}";
        var unexpected = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        int stacked = 0, wins = 0;
        using var stop = new CancellationTokenSource();
        void Creator()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using NetworkNamespace ns = NetworkNamespace.Create(name);
                    Interlocked.Increment(ref wins);
                    if (HasStackedMount(mountPoint)) Interlocked.Increment(ref stacked);
                }
                catch (Exception e) when (e is NamespaceAlreadyExistsException or NamespaceNotFoundException) { }
                catch (Exception e) { unexpected.Enqueue(e); }
            }
        }
        void Deleter()
        {
            while (!stop.IsCancellationRequested)
            {
                try { NetworkNamespace.Delete(name); }
                catch (Exception e) when (e is NamespaceNotFoundException) { }
                catch (Exception e) { unexpected.Enqueue(e); }
            }
        }
        Thread[] threads = [new(Creator), new(Creator), new(Deleter)];
        try
        {
            foreach (Thread t in threads) t.Start();
            // A fixed amount of work, not a time: stop after enough wins (or enough failures to report).
            SpinWait.SpinUntil(() => Volatile.Read(ref wins) >= 300 || unexpected.Count >= 5);
        }
        finally
        {
            stop.Cancel();
            foreach (Thread t in threads) t.Join();
            if (NetworkNamespace.Exists(name)) NetworkNamespace.Delete(name);
        }
        unexpected.Should().BeEmpty();
        stacked.Should().Be(0, "a create that returns holds the name's only mount, never one stacked on another");
        File.ReadLines("/proc/self/mountinfo").Should().NotContain(l => l.Split(' ')[4] == mountPoint);
    }

    /// <summary>
    /// Whether a mount at <paramref name="mountPoint"/> sits on another mount at the same place (its parent is one of
    /// them). Robust to a mount table read while it changes, which may list a line twice.
    /// </summary>
    private static bool HasStackedMount(string mountPoint)
    {
        var here = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')).Where(f => f[4] == mountPoint)
            .Select(f => (Id: f[0], Parent: f[1])).ToList();
        return here.Any(m => here.Any(o => o.Id == m.Parent));
    }
}
