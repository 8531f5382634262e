using System.Diagnostics;
using System.Net.Sockets;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>
/// A FIFO, a socket or a directory under a namespace's name must be rejected at once, never waited on: open(2) of a
/// FIFO without O_NONBLOCK blocks until a writer comes (iproute2 hangs there). Each lookup runs under a bound so a
/// regression fails the test instead of hanging the suite; the FIFO is opened for writing afterwards, which releases
/// any open stuck on it.
/// </summary>
public sealed class NonNamespaceFileTests : IDisposable
{
    private static int s_counter;
    private readonly string _runDirectory = Path.Combine(Path.GetTempPath(), $"lnt-{Environment.ProcessId}-nonns-{Interlocked.Increment(ref s_counter)}");
    private readonly NetworkNamespaceOptions _options;

    public NonNamespaceFileTests()
    {
        Directory.CreateDirectory(_runDirectory);
        _options = new NetworkNamespaceOptions { RunDirectory = _runDirectory };
    }

    public static TheoryData<string> Kinds => new() { "fifo", "socket", "directory" };

    [RootTheory]
    [MemberData(nameof(Kinds))]
    public void Open_pids_and_exec_reject_it_without_waiting(string kind)
    {
        string path = Path.Combine(_runDirectory, kind);
        Socket? socket = null;
        try
        {
            switch (kind)
            {
                case "fifo": Shell.Run("mkfifo", path).EnsureSuccess(); break;
                case "directory": Directory.CreateDirectory(path); break;
                case "socket":
                    socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    socket.Bind(new UnixDomainSocketEndPoint(path));
                    break;
            }

            Bounded(() => NetworkNamespace.Open(kind, _options).Dispose(), path)
                .Should().BeOfType<NotANetworkNamespaceException>()
                .Which.Message.Should().Contain($"\"{path}\"").And.Contain("a " + (kind == "fifo" ? "FIFO" : kind)).And.Contain("not a namespace file");
            Bounded(() => NetworkNamespace.GetProcessIds(kind, _options), path).Should().BeOfType<NotANetworkNamespaceException>();
            Bounded(() => ExecInNamespace.RunAsync(kind, new ProcessStartInfo("/bin/true"), options: new ExecOptions { NamespaceOptions = _options }).GetAwaiter().GetResult(), path)
                .Should().BeOfType<NotANetworkNamespaceException>();
        }
        finally
        {
            socket?.Dispose();
        }
    }

    /// <summary>What <paramref name="lookup"/> throws, failing the test if it has not returned within a minute.</summary>
    private static Exception? Bounded(Action lookup, string path)
    {
        Task<Exception?> attempt = Task.Factory.StartNew(() =>
        {
            try { lookup(); return null; }
            catch (Exception e) { return e; }
        }, TaskCreationOptions.LongRunning);
        bool returned = attempt.Wait(TimeSpan.FromMinutes(1));
        if (!returned) ReleaseFifo(path);
        returned.Should().BeTrue($"a lookup of {path} must not wait for anything");
        return attempt.Result;
    }

    /// <summary>Opens the FIFO for writing without blocking: any reader stuck in open(2) goes on.</summary>
    private static void ReleaseFifo(string path) => Shell.Run("sh", "-c", $"exec 3<>'{path}'");

    public void Dispose() => Directory.Delete(_runDirectory, recursive: true);
}
