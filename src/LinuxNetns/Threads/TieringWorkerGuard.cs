using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using LinuxNetns.Exec;

namespace LinuxNetns.Threads;

/// <summary>
/// Keeps the runtime's tiered-compilation worker (".NET Tiered Compilation Worker") alive across a hand-off to a
/// switched worker (<see cref="NamespaceThread"/>), so that it is never born there.
/// </summary>
/// <remarks>
/// <para>The JIT's background worker is not a permanent thread: it exits after a few idle seconds
/// (<c>TC_BackgroundWorkerTimeoutMs</c>, 4 s) and is started again, by whichever thread next needs it, when a method
/// is called for the first time or reaches its call-count threshold. Framework code run on a switched thread (the
/// worker's hand-off, a <c>Socket</c> constructor, the user's delegate) can therefore create it there. Measured when exec
/// still ran <c>Process.Start</c> on a switched thread (a few hundred framework methods): without this guard, 9 of 60
/// execs spaced 4.2 s apart (default settings), 25 of 450 spaced 300 ms apart (worker timeout 0), 59 of 100
/// back-to-back under <c>strace -f</c>; with it: 0 of 60, 0 of 450 and 0 of 1,800. Exec now runs no managed code while
/// switched and needs no guard. A worker that is running is only signalled, never created.</para>
/// <para>So, before switching, unless it did so in the last 50 ms, this calls a never-called method (a "spark":
/// <c>Array.Empty</c> of a new value type) on the home side. Its first call starts the runtime's call-counting delay
/// (100 ms), and that delay is always served by a running worker — created here, at home, if there was none. The
/// switched window falls inside it, and the worker then stays for its idle timeout. Sparks never run out: 256
/// compiled instantiations, then instantiations made by reflection (<see cref="MadeSpark"/>); with 256 only, the
/// soak (tests/LinuxNetns.Tests/SoakTests.cs) found a tiering worker born on a Run worker in its second phase,
/// once the sparks were used up. Residual risks: a switched window longer than the margin (a heavily loaded machine,
/// or user code that runs long), a configuration without the delay (<c>TC_CallCountingDelayMs=0</c>). Under NativeAOT
/// there is no JIT and no worker, and nothing is done.</para>
/// </remarks>
internal static unsafe class TieringWorkerGuard
{
    private static readonly long MinimumIntervalMs = IntervalFor(WorkerTimeoutMs());
    private static int s_used;
    private static long s_lastSparkMs = long.MinValue / 2;

    /// <summary>How many sparks have been made (for tests and diagnostics); there is no limit.</summary>
    public static int Used => Volatile.Read(ref s_used);

    /// <summary>
    /// A spark at time S keeps the worker alive until at least S + the call-counting delay (100 ms) + its idle timeout:
    /// a switch within that span needs no new spark. One second is kept for the switched window itself; never less
    /// than 50 ms between sparks.
    /// </summary>
    internal static long IntervalFor(long workerTimeoutMs) => Math.Max(50, workerTimeoutMs + 100 - 1000);

    // The runtime's TC_BackgroundWorkerTimeoutMs (a hexadecimal DWORD, as all its DOTNET_ knobs), 4,000 ms by default.
    private static long WorkerTimeoutMs()
    {
        string? text = Environment.GetEnvironmentVariable("DOTNET_TC_BackgroundWorkerTimeoutMs")
            ?? Environment.GetEnvironmentVariable("COMPlus_TC_BackgroundWorkerTimeoutMs");
        if (text is null) return 4000;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) text = text[2..];
        return uint.TryParse(text, System.Globalization.NumberStyles.HexNumber, null, out uint ms) ? ms : 0;
    }

    /// <summary>
    /// Call right before a thread switches: makes sure the worker runs for the next ~100 ms. The spark itself runs on
    /// the library's home thread, wherever the caller is (it may be inside a scope), so that a worker it starts is born
    /// at home; and so the caller allocates nothing (a spark's first call allocates its empty array).
    /// </summary>
    public static void Ensure()
    {
        if (!RuntimeFeature.IsDynamicCodeSupported) return;
        if (Environment.TickCount64 - Volatile.Read(ref s_lastSparkMs) < MinimumIntervalMs) return;
        Chore.Run();
    }

    private static readonly HomeThreadChore Chore = new(SparkNow);

    private static void SparkNow()
    {
        if (Environment.TickCount64 - Volatile.Read(ref s_lastSparkMs) < MinimumIntervalMs) return;
        int index = Interlocked.Increment(ref s_used) - 1;
        if (index < Sparks.Length) Sparks[index]();
        else MadeSpark(index);
        Volatile.Write(ref s_lastSparkMs, Environment.TickCount64);
    }

    /// <summary>
    /// Spark number <paramref name="index"/> beyond the 256 compiled ones: <see cref="Spark{TA, TB}"/> over a value
    /// type made for it (the index's base-16 digits, nested in <see cref="Pair{TA, TB}"/>), so never called before.
    /// Each costs the runtime about a kilobyte that it keeps (a type and a method instantiation), and a reflection
    /// call of some 50 µs on the home thread; at the interval above, at most one per 3.1 s of switches by default.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2055", Justification = "Pair<,> and the K types are this class's own value types, which need no members.")]
    [UnconditionalSuppressMessage("Trimming", "IL2060", Justification = "Spark<,> is referenced statically here; its instantiations need no members.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only called when RuntimeFeature.IsDynamicCodeSupported (Ensure returns before otherwise).")]
    private static void MadeSpark(int index)
    {
        Type type = Keys[index & 15];
        for (int rest = index >> 4; rest != 0; rest >>= 4) type = typeof(Pair<,>).MakeGenericType(type, Keys[rest & 15]);
        SparkMethod.MakeGenericMethod(type, typeof(K0)).Invoke(null, null);
    }

    private static readonly MethodInfo SparkMethod =
        typeof(TieringWorkerGuard).GetMethod(nameof(Spark), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static readonly Type[] Keys =
    [
        typeof(K0), typeof(K1), typeof(K2), typeof(K3), typeof(K4), typeof(K5), typeof(K6), typeof(K7),
        typeof(K8), typeof(K9), typeof(K10), typeof(K11), typeof(K12), typeof(K13), typeof(K14), typeof(K15),
    ];

    // 16 × 16 distinct instantiations over value types: each has its own code, so each is a method called for the
    // first time exactly once.
    private static readonly delegate*<object>[] Sparks = Flatten(
    [
        Row<K0>.Sparks, Row<K1>.Sparks, Row<K2>.Sparks, Row<K3>.Sparks,
        Row<K4>.Sparks, Row<K5>.Sparks, Row<K6>.Sparks, Row<K7>.Sparks,
        Row<K8>.Sparks, Row<K9>.Sparks, Row<K10>.Sparks, Row<K11>.Sparks,
        Row<K12>.Sparks, Row<K13>.Sparks, Row<K14>.Sparks, Row<K15>.Sparks,
    ]);

    private static delegate*<object>[] Flatten(delegate*<object>[][] rows)
    {
        var all = new delegate*<object>[rows.Sum(r => r.Length)];
        int n = 0;
        foreach (delegate*<object>[] row in rows)
        {
            for (int i = 0; i < row.Length; i++) all[n++] = row[i];
        }
        return all;
    }

    private static class Row<TA> where TA : struct
    {
        public static readonly delegate*<object>[] Sparks =
        [
            &Spark<TA, K0>, &Spark<TA, K1>, &Spark<TA, K2>, &Spark<TA, K3>,
            &Spark<TA, K4>, &Spark<TA, K5>, &Spark<TA, K6>, &Spark<TA, K7>,
            &Spark<TA, K8>, &Spark<TA, K9>, &Spark<TA, K10>, &Spark<TA, K11>,
            &Spark<TA, K12>, &Spark<TA, K13>, &Spark<TA, K14>, &Spark<TA, K15>,
        ];
    }

    // The first call of a framework generic method over a type of ours: framework code is always eligible for tiering,
    // even when this library is a Debug build (whose own methods are not tiered, so cannot serve as sparks).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static object Spark<TA, TB>() where TA : struct where TB : struct => Array.Empty<Pair<TA, TB>>();

    private struct Pair<TA, TB>;

    private struct K0;
    private struct K1;
    private struct K2;
    private struct K3;
    private struct K4;
    private struct K5;
    private struct K6;
    private struct K7;
    private struct K8;
    private struct K9;
    private struct K10;
    private struct K11;
    private struct K12;
    private struct K13;
    private struct K14;
    private struct K15;
}
