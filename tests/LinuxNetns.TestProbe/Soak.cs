using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinuxNetns;

/// <summary>
/// The soak (docs/runtime-threads.md, "The soak"): every kind of operation, thousands of times, in phases separated by
/// pauses long enough for every lazily created runtime thread to idle out, with allocation pressure at home; after
/// each phase, no thread of this process may be outside its home network or mount namespace except the library's
/// live workers. The user code it runs inside Enter and Run keeps the rules the library documents for what it can
/// guarantee: no allocation inside Enter, new code inside Run only where the library's guard covers it.
/// </summary>
internal static partial class Soak
{
    public static int Run(string[] args)
    {
        int phases = int.Parse(args[1]);
        int phaseMs = int.Parse(args[2]);
        int pauseMs = int.Parse(args[3]);
        // RunAsync flows are user code that allocates on the switched loop (so does the loop's continuation machinery):
        // only with the setting docs/runtime-threads.md gives for that (System.GC.Concurrent=false), so opt-in.
        bool runAsync = args.Length > 4 && args[4] == "run-async";
        string mntHome = new FileInfo("/proc/self/ns/mnt").LinkTarget ?? "";
        // One namespace held for the whole soak: its worker is the library's live worker, the one expected stray.
        using NetworkNamespace held = NetworkNamespace.CreateTemporary();
        var ring = new byte[512][];
        long ops = 0;
        int failures = 0;
        for (int phase = 1; phase <= phases; phase++)
        {
            var counts = new Dictionary<string, int>();
            void Count(string op) { counts[op] = counts.GetValueOrDefault(op) + 1; ops++; }
            long end = Environment.TickCount64 + phaseMs;
            int i = 0;
            while (Environment.TickCount64 < end)
            {
                // Allocation pressure at home: 32 KB arrays replaced in a ring, so that gen0, gen1 and background
                // gen2 collections keep happening while the operations below switch threads.
                ring[i % ring.Length] = new byte[32 * 1024];
                switch (i % 7)
                {
                    case 0:
                        string name = $"lnt-soak-{Environment.ProcessId}-{i}";
                        using (NetworkNamespace.Create(name)) { }
                        NetworkNamespace.Delete(name);
                        Count("create+delete");
                        break;
                    case 1:
                        using (held.Enter()) SocketWork();
                        Count("enter+socket");
                        break;
                    case 2:
                        held.Run(NewCode.Next());
                        Count("run+new-code");
                        break;
                    case 3:
                        using (held.CreateSocket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp)) { }
                        Count("create-socket");
                        break;
                    case 4:
                        if (i % 28 == 4) // exec costs about a millisecond more than the rest: a quarter as often
                        {
                            ExecResult r = ExecInNamespace.RunAsync(held, "/bin/true", []).GetAwaiter().GetResult();
                            if (r.ExitCode != 0) throw new InvalidOperationException($"/bin/true exited with {r.ExitCode}");
                            Count("exec");
                        }
                        break;
                    case 5:
                        using (NetworkNamespace t = NetworkNamespace.CreateTemporary()) t.Run(static () => { });
                        Count("temporary+run");
                        break;
                    case 6:
                        if (i % 200 == 6) Thread.Sleep(300); // thread-pool workers (timeout driven down) idle out within phases too
                        else if (runAsync && i % 14 == 6)
                        {
                            // A flow on the held namespace's event loop: new code and allocations inside, continuations
                            // posted back from the timer thread, and a ConfigureAwait(false) that ends it on a pool thread.
                            Action code = NewCode.Next();
                            held.RunAsync(async () =>
                            {
                                code();
                                await Task.Yield();
                                _ = new byte[4096];
                                await Task.Delay(1);
                                code();
                                await Task.Delay(1).ConfigureAwait(false);
                            }).GetAwaiter().GetResult();
                            Count("run-async");
                        }
                        break;
                }
                i++;
            }
            string strays = Strays(held, mntHome);
            Console.WriteLine($"phase {phase}: {string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}"))}; gc {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}; strays [{strays}]");
            if (strays.Length != 0) failures++;
            if (phase < phases) Thread.Sleep(pauseMs); // every thread that idles out does so here
        }
        GC.KeepAlive(ring);
        Console.WriteLine(failures == 0 ? $"ok {ops} operations" : $"FAILED: strays after {failures} phase(s)");
        return failures == 0 ? 0 : 3;
    }

    /// <summary>Threads outside the home network or mount namespace, except the held namespace's live worker.</summary>
    public static string Strays(NetworkNamespace? held, string mntHome)
    {
        var found = new List<string>();
        foreach (StrayThread t in NamespaceDiagnostics.FindStrayThreads())
        {
            if (held is not null && t.Namespace == held.Id && t.Name.StartsWith("netns:", StringComparison.Ordinal)) continue;
            found.Add($"{t.ThreadId}:{t.Name}(net){(t.RuntimeRole is null ? "" : " = " + t.RuntimeRole)}");
        }
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                string? link = new FileInfo(task + "/ns/mnt").LinkTarget;
                if (link is not null && link != mntHome) found.Add($"{Path.GetFileName(task)}:{File.ReadAllText(task + "/comm").Trim()}(mnt)");
            }
            catch (IOException)
            {
                // the thread ended meanwhile
            }
        }
        return string.Join(", ", found);
    }

    // Socket work inside Enter that allocates nothing (an allocation there could start a background GC whose thread
    // would be born inside: that is the user's to avoid, docs/runtime-threads.md): a UDP socket made and bound by
    // raw syscalls, from code that is never call-counted.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SocketWork()
    {
        int fd = socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | 0x80000 /* SOCK_CLOEXEC */, 0);
        if (fd < 0) throw new InvalidOperationException($"socket(AF_INET, SOCK_DGRAM) inside the namespace failed: errno {Marshal.GetLastPInvokeError()}");
        byte* address = stackalloc byte[16];
        new Span<byte>(address, 16).Clear();
        address[0] = 2; // sin_family AF_INET, port 0, INADDR_ANY
        int rc = bind(fd, address, 16);
        close(fd);
        if (rc != 0) throw new InvalidOperationException($"bind of a UDP socket inside the namespace failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", SetLastError = true)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe partial int bind(int fd, byte* address, int length);

    [LibraryImport("libc")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static partial int close(int fd);
}

/// <summary>
/// New code for each Run: each delegate is a method never called before, calling a generic framework method
/// (Array.Fill) over a value type never used before: code the runtime compiles there, and counts for tiering. 4,096 of them.
/// </summary>
internal static class NewCode
{
    private static int s_next;
    private static readonly Action[] All = Build();

    public static Action Next() => All[s_next++ % All.Length];

    private static Action[] Build()
    {
        var all = new List<Action>();
        Add<K0>(all); Add<K1>(all); Add<K2>(all); Add<K3>(all); Add<K4>(all); Add<K5>(all); Add<K6>(all); Add<K7>(all);
        Add<K8>(all); Add<K9>(all); Add<K10>(all); Add<K11>(all); Add<K12>(all); Add<K13>(all); Add<K14>(all); Add<K15>(all);
        return [.. all];
    }

    private static void Add<A>(List<Action> all) where A : struct
    {
        Add<A, K0>(all); Add<A, K1>(all); Add<A, K2>(all); Add<A, K3>(all); Add<A, K4>(all); Add<A, K5>(all); Add<A, K6>(all); Add<A, K7>(all);
        Add<A, K8>(all); Add<A, K9>(all); Add<A, K10>(all); Add<A, K11>(all); Add<A, K12>(all); Add<A, K13>(all); Add<A, K14>(all); Add<A, K15>(all);
    }

    private static void Add<A, B>(List<Action> all) where A : struct where B : struct
    {
        all.Add(Make<T3<A, B, K0>>()); all.Add(Make<T3<A, B, K1>>()); all.Add(Make<T3<A, B, K2>>()); all.Add(Make<T3<A, B, K3>>());
        all.Add(Make<T3<A, B, K4>>()); all.Add(Make<T3<A, B, K5>>()); all.Add(Make<T3<A, B, K6>>()); all.Add(Make<T3<A, B, K7>>());
        all.Add(Make<T3<A, B, K8>>()); all.Add(Make<T3<A, B, K9>>()); all.Add(Make<T3<A, B, K10>>()); all.Add(Make<T3<A, B, K11>>());
        all.Add(Make<T3<A, B, K12>>()); all.Add(Make<T3<A, B, K13>>()); all.Add(Make<T3<A, B, K14>>()); all.Add(Make<T3<A, B, K15>>());
    }

    // The array is made here, at home; the delegate's body and Array.Fill<T> over it are new code, and allocate nothing.
    private static Action Make<T>() where T : struct
    {
        var array = new T[1];
        return () => Array.Fill(array, default);
    }

    private struct T3<A, B, C>;
    private struct K0; private struct K1; private struct K2; private struct K3;
    private struct K4; private struct K5; private struct K6; private struct K7;
    private struct K8; private struct K9; private struct K10; private struct K11;
    private struct K12; private struct K13; private struct K14; private struct K15;
}
