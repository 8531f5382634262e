using System.Diagnostics;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>identify, pids and monitor: the library's answers compared with the real <c>ip netns</c>.</summary>
public sealed class QueryAndMonitorTests : NamespaceTest
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30); // only against hangs, never asserted

    [RootFact]
    public void GetNames_lists_every_name_a_namespace_is_pinned_under_and_identify_agrees_with_ip()
    {
        string a = NewName("ida");
        string alias = NewName("idalias");
        string other = NewName("idother");
        using NetworkNamespace ns = NetworkNamespace.Create(a);
        using (NetworkNamespace.Create(other)) { }
        ns.Pin(alias);
        try
        {
            // In directory order, exactly as ip netns list shows them.
            var expected = NetworkNamespace.List().Where(n => n == a || n == alias).ToList();
            ns.GetNames().Should().Equal(expected);

            using Process sleeper = StartIn(a);
            NetworkNamespace.Identify(sleeper.Id).Should().Equal(expected);
            // ip netns identify prints the last match in directory order.
            Shell.Ip("netns", "identify", sleeper.Id.ToString()).EnsureSuccess().StdOut.Should().Be(expected[^1] + "\n");
            Stop(sleeper);

            NetworkNamespace.Identify(Environment.ProcessId).Should().NotContain([a, alias, other]);
        }
        finally
        {
            NetworkNamespace.Delete(alias);
            NetworkNamespace.Delete(a);
            NetworkNamespace.Delete(other);
        }
    }

    [RootFact]
    public void GetProcessIds_finds_the_processes_ip_netns_pids_finds()
    {
        string name = NewName("pids");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            ns.GetProcessIds().Should().BeEmpty();
            using Process one = StartIn(name);
            using Process two = StartIn(name);
            try
            {
                NetworkNamespace.GetProcessIds(name).Should().BeEquivalentTo([one.Id, two.Id]);
                string ip = Shell.Ip("netns", "pids", name).EnsureSuccess().StdOut;
                ns.GetProcessIds().Select(p => p.ToString()).Should().Equal(ip.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                ns.GetProcessIds().Should().NotContain(Environment.ProcessId);
            }
            finally
            {
                Stop(one);
                Stop(two);
            }
            ns.GetProcessIds().Should().BeEmpty();
        }
        NetworkNamespace.Delete(name);
        FluentActions.Invoking(() => NetworkNamespace.GetProcessIds(name)).Should().Throw<NamespaceNotFoundException>();
    }

    [RootFact]
    public async Task Monitor_reports_adds_and_deletes_of_both_tools_in_order()
    {
        string ours = NewName("mon");
        string theirs = NewName("monip");
        using var cts = new CancellationTokenSource(Guard);
        await using IAsyncEnumerator<NamespaceEvent> events = NetworkNamespace.Monitor(cts.Token).GetAsyncEnumerator(cts.Token);
        ValueTask<bool> first = events.MoveNextAsync(); // the watch is in place once this returns

        NetworkNamespace.Create(ours).Dispose();
        Shell.Ip("netns", "add", theirs).EnsureSuccess();
        Shell.Ip("netns", "delete", ours).EnsureSuccess();
        NetworkNamespace.Delete(theirs);

        // Other engineers' tests may add names meanwhile: keep only ours.
        var seen = new List<string>();
        bool more = await first;
        while (more && seen.Count < 4)
        {
            if (events.Current.Name == ours || events.Current.Name == theirs) seen.Add(events.Current.ToString());
            if (seen.Count < 4) more = await events.MoveNextAsync();
        }
        seen.Should().Equal($"add {ours}", $"add {theirs}", $"delete {ours}", $"delete {theirs}");
    }

    [RootFact]
    public async Task Cancelling_the_monitor_ends_it_and_its_thread()
    {
        using var cts = new CancellationTokenSource();
        IAsyncEnumerator<NamespaceEvent> events = NetworkNamespace.Monitor(cts.Token).GetAsyncEnumerator();
        ValueTask<bool> pending = events.MoveNextAsync();
        MonitorThreads().Should().Be(1, "a monitor waits on one thread of its own");

        cts.Cancel();
        Func<Task> wait = async () => await pending;
        await wait.Should().ThrowAsync<OperationCanceledException>();
        await events.DisposeAsync();
        KernelState.Eventually(() => MonitorThreads() == 0).Should().BeTrue("the monitor's thread ends with it (it may take a moment to leave the kernel after it is joined)");
    }

    [RootFact]
    public async Task Leaving_await_foreach_stops_the_monitor_and_a_removed_directory_ends_it()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"{RunPrefix}mondir");
        Directory.CreateDirectory(dir);
        try
        {
            var options = new NetworkNamespaceOptions { RunDirectory = dir };
            using var guard = new CancellationTokenSource(Guard);

            // break out of the loop: the enumerator is disposed, the watch and thread go away.
            IAsyncEnumerator<NamespaceEvent> e1 = NetworkNamespace.Monitor(options, guard.Token).GetAsyncEnumerator();
            ValueTask<bool> next = e1.MoveNextAsync();
            File.WriteAllText(Path.Combine(dir, "x"), "");
            (await next).Should().BeTrue();
            e1.Current.Should().Be(new NamespaceEvent(NamespaceEventKind.Added, "x"));
            await e1.DisposeAsync();
            KernelState.Eventually(() => MonitorThreads() == 0).Should().BeTrue("the monitor's thread ends (it may take a moment to leave the kernel after it is joined)");

            // The watch ends when the directory goes: the sequence completes normally, after the last delete.
            var events = new List<NamespaceEvent>();
            IAsyncEnumerator<NamespaceEvent> e2 = NetworkNamespace.Monitor(options, guard.Token).GetAsyncEnumerator();
            ValueTask<bool> pending = e2.MoveNextAsync();
            Directory.Delete(dir, recursive: true);
            for (bool more = await pending; more; more = await e2.MoveNextAsync()) events.Add(e2.Current);
            await e2.DisposeAsync();
            events.Should().Equal(new NamespaceEvent(NamespaceEventKind.Deleted, "x"));
            KernelState.Eventually(() => MonitorThreads() == 0).Should().BeTrue("the monitor's thread ends (it may take a moment to leave the kernel after it is joined)");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [RootFact]
    public void Monitor_validates_its_arguments_before_enumeration()
    {
        FluentActions.Invoking(() => NetworkNamespace.Monitor(null!)).Should().Throw<ArgumentNullException>();
        new NamespaceEvent(NamespaceEventKind.Added, "a").ToString().Should().Be("add a");
        new NamespaceEvent(NamespaceEventKind.Deleted, "a").ToString().Should().Be("delete a");
    }

    private static int MonitorThreads() =>
        Directory.EnumerateDirectories("/proc/self/task").Count(t =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(t, "comm")).TrimEnd('\n') == "netns monitor";
            }
            catch (IOException)
            {
                return false;
            }
        });

    /// <summary>A sleep inside the named namespace; <c>ip netns exec</c> execs it in place, so the pid is the sleep's.</summary>
    private static Process StartIn(string name)
    {
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false };
        foreach (string a in new[] { "netns", "exec", name, "sleep", "600" }) psi.ArgumentList.Add(a);
        Process p = Process.Start(psi)!;
        using NetworkNamespace target = NetworkNamespace.Open(name);
        for (int i = 0; i < 500; i++)
        {
            // Wait until ip has switched (it execs sleep after setns).
            try
            {
                using NetworkNamespace current = NetworkNamespace.OpenProcess(p.Id);
                if (current.Id == target.Id) return p;
            }
            catch (NamespaceNotFoundException)
            {
            }
            Thread.Sleep(10);
        }
        throw new InvalidOperationException($"process {p.Id} never entered {name}");
    }

    private static void Stop(Process p)
    {
        if (!p.HasExited) p.Kill();
        p.WaitForExit();
    }
}
