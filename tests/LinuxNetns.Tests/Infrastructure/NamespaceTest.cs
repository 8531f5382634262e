using LinuxNetns.Mounts;

namespace LinuxNetns.Tests.Infrastructure;

/// <summary>
/// Base of every test that touches namespaces: hands out unique names with a common prefix, removes whatever a test
/// left under them, and after each test checks that no thread of the process stayed in a foreign namespace and
/// that nothing of the test remains in the run directory or the mount table.
/// </summary>
public abstract class NamespaceTest : IDisposable
{
    /// <summary>Every name a test makes starts with this, so leftovers are attributable.</summary>
    public const string Prefix = "lnt-";

    private static int s_counter;
    private readonly List<string> _names = [];

    /// <summary>This process's prefix: names of concurrent test runs never collide.</summary>
    protected static string RunPrefix => $"{Prefix}{Environment.ProcessId}-";

    /// <summary>A fresh name, unique in this machine's run directory; removed after the test if still there.</summary>
    protected string NewName(string hint = "t")
    {
        string name = $"{RunPrefix}{hint}-{Interlocked.Increment(ref s_counter)}";
        _names.Add(name);
        return name;
    }

    /// <summary>
    /// A thread in a foreign namespace that is there on purpose after a test: e.g. the library's worker of a
    /// namespace that a class fixture keeps open across tests (it ends when the fixture disposes the namespace).
    /// </summary>
    protected virtual bool IsExpectedThread(StrayThread thread) => false;

    public virtual void Dispose()
    {
        var leftovers = new List<string>();
        foreach (string name in _names)
        {
            if (!File.Exists(Path.Combine("/run/netns", name))) continue;
            leftovers.Add(name);
            Shell.Ip("netns", "delete", name);
        }
        var mounts = MountTable.MountPoints("/proc/self/mountinfo").Where(m => m.Contains(RunPrefix)).ToList();
        foreach (string m in mounts) Shell.Run("umount", "-l", m);

        // A thread that a test started inside a namespace and joined may still be in the kernel for a moment after Join
        // returns (the runtime signals Join before the thread has fully exited): it is leaving, not staying. Give such
        // threads two seconds; one that stays is still found.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        int self = NativeForTests.gettid();
        List<StrayThread> strays;
        while ((strays = NamespaceDiagnostics.FindStrayThreads().Where(t => !IsExpectedThread(t)).ToList()).Count > 0 &&
               strays.All(t => t.ThreadId != self) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        // The thread running this check among them: the test's code went on on a thread born inside (e.g. its
        // continuation was handed to xunit's context from a switched thread, and that context starts a thread per post).
        strays.Should().BeEmpty("no thread may stay in a foreign namespace after a test" +
            (strays.Any(t => t.ThreadId == self) ? $"; thread {self}, which runs this check (the test's own), is one of them" : ""));
        leftovers.Should().BeEmpty("a test must delete the namespaces it creates");
        mounts.Should().BeEmpty("a test must leave no mount behind");
        GC.SuppressFinalize(this);
    }
}
