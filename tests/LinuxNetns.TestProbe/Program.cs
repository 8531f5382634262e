using LinuxNetns;

// Usage: probe <command> [args]; prints "ok ..." or "<ExceptionType> [Problem] <message>" on one line.
// Commands:
//   create NAME        NetworkNamespace.Create, then Delete
//   open NAME          NetworkNamespace.Open
//   wait-open NAME     read one line from stdin, then open NAME
//   hold-temporary WITNESS_PATH
//                      CreateTemporary, a veth "tmpk0" in it whose peer "WITNESS_IFNAME" (next arg) goes into the namespace
//                      at WITNESS_PATH; prints "ready INODE", then waits on stdin (the test SIGKILLs it)
//   rootless-hold      a two-host VirtualNetwork in a user namespace (InUserNamespace), `sleep 600` started in host a;
//                      prints "ready HELPER_PIDS SLEEP_PID INODE_A INODE_B", then waits on stdin (the test SIGKILLs it)
//   rootless-build     builds that network (InUserNamespace) and prints "ok ADDRESS_OF_A" (or the exception)
//   hold-temporary-pinned
//                      CreateTemporaryPinned; prints "ready NAME", then waits on stdin (the test SIGKILLs it)
//   hygiene NAME       first use of Enter, Run (arming a timer, registering a wait) and CreateSocket in a fresh
//                      process; prints the stray threads after
//   exec-first NAME    create NAME and, as this process's first exec, run `ls /sys/class/net` in it;
//                      then report threads left in another network or mount namespace; delete NAME
//   exec NAME          exec `true` in the existing namespace NAME
//   exec-pressure NAME COUNT [RING]
//                      create NAME; COUNT times replace one of RING (64) arrays of 32 KB and exec /bin/true in it; delete
//                      NAME; print the threads left in another network or mount namespace
//   soak PHASES PHASE_MS PAUSE_MS [run-async]
//                      the soak (Soak.cs), with RunAsync flows when run-async is given; prints one line per phase and "ok N operations", exit code 3 on strays
//   bgc-inside [GEN2]  inside Enter, allocate (a ring of 32 KB arrays) until GEN2 (default 3) gen2 collections happened there
//                      (or until the BGC thread exists); prints "ok gen2 N strays: ..." (a ".NET BGC" stray unless
//                      System.GC.Concurrent is false)
//   tiering-inside     inside Enter, for 2 s, bursts of never-called code (Soak's NewCode) 300 ms apart; prints
//                      "ok worker-seen BOOL strays: ..." (BOOL: a tiering worker thread existed at any sample)
//   pool-inside MODE   let the thread pool's workers idle out (run with DOTNET_ThreadPool_ThreadTimeoutMs=100), then
//                      queue pool work from inside a namespace: MODE enter (inside an Enter scope) or runasync (inside a
//                      RunAsync flow); prints "ok threads-before N strays: ..."
try
{
    string command = args[0];
    if (command == "wait-open")
    {
        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        Console.In.ReadLine();
        command = "open";
    }
    switch (command)
    {
        case "create":
            using (NetworkNamespace.Create(args[1])) { }
            NetworkNamespace.Delete(args[1]);
            Console.WriteLine("ok created and deleted");
            break;
        case "open":
            using (var ns = NetworkNamespace.Open(args[1])) Console.WriteLine($"ok {ns.Id}");
            break;
        case "hold-temporary":
        {
            var ns = NetworkNamespace.CreateTemporary();
            using (var witness = NetworkNamespace.OpenPath(args[1])) ns.Network.CreateVethPair("tmpk0", witness, args[2]);
            Console.Out.WriteLine($"ready {ns.Id.Inode}");
            Console.Out.Flush();
            Console.In.ReadLine();
            GC.KeepAlive(ns);
            break;
        }
        case "rootless-hold":
        {
            // A network in a user namespace of its own (as without root), a process left running in host a.
            var net = new LinuxNetns.Testing.VirtualNetworkBuilder().InUserNamespace().AddHost("a").AddHost("b").Connect("a", "b").Build();
            NamespaceProcess sleeper = ExecInNamespace.Start(net["a"].Namespace, new System.Diagnostics.ProcessStartInfo("sleep", "600"));
            string helper = string.Join(",", Directory.EnumerateDirectories("/proc/self/task")
                .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries)));
            Console.Out.WriteLine($"ready {helper} {sleeper.Id} {net["a"].Namespace.Id.Inode} {net["b"].Namespace.Id.Inode}");
            Console.Out.Flush();
            Console.In.ReadLine();
            GC.KeepAlive(net);
            break;
        }
        case "rootless-build":
            using (var net = new LinuxNetns.Testing.VirtualNetworkBuilder().InUserNamespace().AddHost("a").AddHost("b").Connect("a", "b").Build())
                Console.WriteLine($"ok {net["a"].Address}");
            break;
        case "hold-temporary-pinned":
        {
            var ns = NetworkNamespace.CreateTemporaryPinned();
            Console.Out.WriteLine($"ready {ns.Name}");
            Console.Out.Flush();
            Console.In.ReadLine();
            GC.KeepAlive(ns);
            break;
        }
        case "hygiene":
            using (NetworkNamespace ns = NetworkNamespace.Create(args[1]))
            {
                using (ns.Enter()) { }
                ns.Run(() => { });
                // First timer armed and first registered wait of the process, from inside the namespace.
                ns.Run(() => Task.Delay(10).Wait());
                ns.Run(() =>
                {
                    using var signalled = new ManualResetEvent(true);
                    using var waited = new ManualResetEventSlim();
                    RegisteredWaitHandle r = ThreadPool.RegisterWaitForSingleObject(signalled, (_, _) => waited.Set(), null, -1, true);
                    waited.Wait();
                    r.Unregister(null);
                });
                using (ns.CreateSocket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp)) { }
            }
            NetworkNamespace.Delete(args[1]);
            Console.WriteLine("ok strays: " + string.Join(", ", NamespaceDiagnostics.FindStrayThreads()));
            break;
        case "exec-first":
        {
            string output;
            using (var ns = NetworkNamespace.Create(args[1]))
            {
                output = ExecInNamespace.RunAsync(ns, "ls", ["/sys/class/net"]).GetAwaiter().GetResult().StandardOutput;
            }
            NetworkNamespace.Delete(args[1]);
            string mnt = new FileInfo("/proc/self/ns/mnt").LinkTarget ?? "";
            var strays = NamespaceDiagnostics.FindStrayThreads().Select(t => $"{t.ThreadId}:{t.Name}").ToList();
            foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                string? link = new FileInfo(task + "/ns/mnt").LinkTarget;
                if (link is not null && link != mnt) strays.Add($"{Path.GetFileName(task)}:{File.ReadAllText(task + "/comm").Trim()}(mnt)");
            }
            string threads = string.Join(",", Directory.EnumerateDirectories("/proc/self/task").Select(t => File.ReadAllText(t + "/comm").Trim()));
            Console.WriteLine($"ok {output.Trim().Replace('\n', ' ')} | strays=[{string.Join(",", strays)}] | threads=[{threads}]");
            break;
        }
        case "exec-pressure":
        {
            var ring = new byte[args.Length > 3 ? int.Parse(args[3]) : 64][];
            using (var ns = NetworkNamespace.Create(args[1]))
            {
                for (int i = 0; i < int.Parse(args[2]); i++)
                {
                    ring[i % ring.Length] = new byte[32 * 1024];
                    ExecInNamespace.RunAsync(ns, "/bin/true", []).GetAwaiter().GetResult();
                }
            }
            NetworkNamespace.Delete(args[1]);
            string mnt = new FileInfo("/proc/self/ns/mnt").LinkTarget ?? "";
            var strays = NamespaceDiagnostics.FindStrayThreads().Select(t => $"{t.ThreadId}:{t.Name}").ToList();
            foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                string? link = new FileInfo(task + "/ns/mnt").LinkTarget;
                if (link is not null && link != mnt) strays.Add($"{Path.GetFileName(task)}:{File.ReadAllText(task + "/comm").Trim()}(mnt)");
            }
            Console.WriteLine($"ok gc={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} strays=[{string.Join(",", strays)}]");
            break;
        }
        case "exec":
            using (var ns = NetworkNamespace.Open(args[1]))
            {
                var r = ExecInNamespace.RunAsync(ns, "true", []).GetAwaiter().GetResult();
                Console.WriteLine($"ok exit {r.ExitCode}");
            }
            break;
        case "soak":
            return Soak.Run(args);
        case "bgc-inside":
        {
            using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
            var ring = new byte[1024][];
            int gen2Target = args.Length > 1 ? int.Parse(args[1]) : 3;
            int gen2Before = GC.CollectionCount(2), gen2Inside;
            long deadline = Environment.TickCount64 + 20_000;
            using (ns.Enter())
            {
                // The first gen2 collection that the allocation budget triggers is a background one (an induced
                // GC.Collect is not): the background GC thread is then created by this thread, inside.
                // Not every gen2 is background (e.g. one elevated from a gen1): go on until the thread exists, or
                // until GEN2 (default 3) gen2 collections happened here.
                for (int i = 0; GC.CollectionCount(2) < gen2Before + gen2Target && Environment.TickCount64 < deadline; i++)
                {
                    ring[i % ring.Length] = new byte[32 * 1024];
                    if (i % 256 == 255 && GC.CollectionCount(2) > gen2Before && BackgroundGcThreadExists()) break;
                }
                gen2Inside = GC.CollectionCount(2) - gen2Before;
            }
            GC.KeepAlive(ring);
            Console.WriteLine($"ok gen2 {gen2Inside} strays: {Soak.Strays(null, new FileInfo("/proc/self/ns/mnt").LinkTarget ?? "")}");
            break;
        }
        case "pool-inside":
        {
            using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
            ns.Run(() => { }); // the library's first use, at home: its runtime threads start here
            Task.Run(() => { }).Wait(); // waited, not awaited: the probe stays on its main thread, never a pool worker
            for (int waited = 0; ThreadPool.ThreadCount != 0 && waited < 10_000; waited += 50) Thread.Sleep(50);
            int before = ThreadPool.ThreadCount;
            if (args[1] == "enter")
            {
                using (ns.Enter())
                {
                    Task.Run(() => { }).Wait();
                }
            }
            else
            {
                ns.RunAsync(async () =>
                {
                    await Task.Run(() => { });
                    await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Thread.Sleep(20))));
                    await Task.Delay(10).ConfigureAwait(false);
                }).Wait();
            }
            Console.WriteLine($"ok threads-before {before} strays: {Soak.Strays(ns, new FileInfo("/proc/self/ns/mnt").LinkTarget ?? "")}");
            break;
        }
        case "tiering-inside":
        {
            using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
            static bool WorkerExists() => Directory.EnumerateDirectories("/proc/self/task").Any(t =>
            {
                try
                {
                    return File.ReadAllText(t + "/comm").StartsWith(".NET Tiered", StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false; // the thread ended meanwhile
                }
            });
            bool seen = WorkerExists();
            long end = Environment.TickCount64 + 2_000;
            using (ns.Enter())
            {
                while (Environment.TickCount64 < end)
                {
                    for (int i = 0; i < 64; i++) NewCode.Next()();
                    seen |= WorkerExists();
                    Thread.Sleep(300);
                    seen |= WorkerExists();
                }
            }
            Console.WriteLine($"ok worker-seen {seen} strays: {Soak.Strays(null, new FileInfo("/proc/self/ns/mnt").LinkTarget ?? "")}");
            break;
        }
        default:
            Console.WriteLine($"unknown command {command}");
            return 2;
    }
    return 0;
}
catch (NotANetworkNamespaceException e)
{
    Console.WriteLine($"{e.GetType().Name} {e.Problem} {e.Message}");
    return 1;
}
catch (NetworkNamespaceException e)
{
    Console.WriteLine($"{e.GetType().Name} {e.Operation} {e.Errno} {e.Message}");
    return 1;
}
catch (Exception e)
{
    Console.WriteLine($"{e.GetType().Name} {e.Message}");
    return 1;
}


internal partial class Program
{
    private static bool BackgroundGcThreadExists() => Directory.EnumerateDirectories("/proc/self/task").Any(t =>
    {
        try { return File.ReadAllText(t + "/comm").StartsWith(".NET BGC", StringComparison.Ordinal); }
        catch (IOException) { return false; }
    });
}
