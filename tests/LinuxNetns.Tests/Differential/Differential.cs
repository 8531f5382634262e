using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests.Differential;

/// <summary>
/// Runs one scenario script twice, once with <c>ip netns</c> and once with the <c>netns</c> tool, each time inside a
/// private mount namespace (and a fresh network namespace) whose <c>/run/netns</c> is an empty tmpfs: both tools
/// see only the names the script makes, nothing of the host's or of other tests, and everything the script leaves
/// (mounts, namespaces) dies with that mount namespace.
/// </summary>
/// <remarks>
/// The script calls <c>nns</c>: <c>ip [OPTIONS] netns ARGS</c> in one run, <c>netns [OPTIONS] ARGS</c> in the other.
/// Helpers: <c>run CMD…</c> prints CMD's stdout, then <c>rc=N</c>, then its stderr lines prefixed <c>stderr: </c>
/// (so stderr is compared too); <c>out CMD…</c> the same without stderr; <c>waitns PID</c> waits until a process
/// has left the script's network namespace. <c>$T</c> is a name prefix unique to the run; it is replaced by
/// <c>T</c> before the outputs are compared. <c>$W</c> is an empty directory of the run's own, for files the script
/// writes (batch files); it is removed with the rest. Standard input is closed: a script that feeds a command's
/// standard input pipes into it itself. Options that take a value (<c>-batch FILE</c>, <c>-netns NAME</c>) take
/// it along before <c>netns</c> in ip's command line.
/// </remarks>
public sealed class Differential : IDisposable
{
    private static int s_counter;
    private readonly string _dir;

    public Differential(string prefix)
    {
        Prefix = $"{prefix}d{Interlocked.Increment(ref s_counter)}";
        _dir = Path.Combine(Path.GetTempPath(), Prefix);
        Directory.CreateDirectory(_dir);
        // The options before the netns command go before "netns" for ip; those that take a value (-batch FILE,
        // -netns NAME, -loops N, -family F, -rcvbuf N, in any prefix ip accepts) take it along, whatever it looks like.
        WriteWrapper("ip", """
            opts=()
            while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do
                o=${1#-}; o=-${o#-}
                opts+=("$1"); shift
                case "$o" in
                    -|-r) ;; # "-r" is -resolve
                    *) for v in -batch -netns -loops -family -rcvbuf; do
                           case "$v" in "$o"*) [ $# -gt 0 ] && { opts+=("$1"); shift; }; break ;; esac
                       done ;;
                esac
            done
            exec ip "${opts[@]}" netns "$@"
            """);
        WriteWrapper("netns", InstalledTool is { } tool ? $"exec '{tool}' \"$@\"" : $"exec '{Probe.DotNet}' '{NetnsDll}' \"$@\"");
        File.Copy(Path.Combine(_dir, "netns", "nns"), Path.Combine(_dir, "netns", "netns"));
    }

    /// <summary>The netns tool, built beside the tests.</summary>
    public static string NetnsDll => Path.Combine(AppContext.BaseDirectory, "netns.dll");

    /// <summary>
    /// <c>LNT_NETNS_COMMAND</c>: an installed <c>netns</c> executable to compare instead of the one built beside the
    /// tests (CI sets it to the NativeAOT tool it installed from the packed packages).
    /// </summary>
    public static string? InstalledTool => Environment.GetEnvironmentVariable("LNT_NETNS_COMMAND") is { Length: > 0 } path ? path : null;

    /// <summary>Runs the netns tool under test (<see cref="InstalledTool"/>, else the one built beside the tests) once.</summary>
    public static ShellResult Netns(params string[] args) =>
        InstalledTool is { } tool ? Shell.Run(tool, args) : Shell.Run(Probe.DotNet, [NetnsDll, .. args]);

    /// <summary>Starts every name the scripts make (before the run tag).</summary>
    public string Prefix { get; }

    /// <summary>Runs <paramref name="script"/> with both tools.</summary>
    public (ScriptResult Ip, ScriptResult Netns) Run(string script) => (RunWith("ip", script), RunWith("netns", script));

    /// <summary>Runs <paramref name="script"/> once, in its own private mount and network namespace.</summary>
    public ScriptResult RunWith(string tool, string script)
    {
        string tag = $"{Prefix}-{(tool == "ip" ? "ip" : "nn")}";
        string prelude = """
            set -u
            trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT
            mkdir -p /run/netns
            mount -t tmpfs -o mode=0755 lnt-differential /run/netns || { echo "cannot mount a tmpfs on /run/netns" >&2; exit 99; }
            run() { "$@" 2>"$ERR"; local rc=$?; echo "rc=$rc"; sed 's/^/stderr: /' "$ERR"; }
            out() { "$@" 2>/dev/null; echo "rc=$?"; }
            waitns() { local me; me=$(readlink /proc/self/ns/net); while [ "$(readlink /proc/$1/ns/net)" = "$me" ]; do sleep 0.01; done; }

            """;
        var psi = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "--mount", "--net", "--propagation", "private", "bash", "-c", prelude + script }) psi.ArgumentList.Add(a);
        psi.Environment["T"] = tag;
        psi.Environment["ERR"] = Path.Combine(_dir, $"stderr-{tool}");
        string work = Path.Combine(_dir, $"work-{tool}");
        Directory.CreateDirectory(work);
        psi.Environment["W"] = work;
        psi.Environment["PATH"] = $"{Path.Combine(_dir, tool)}:{Environment.GetEnvironmentVariable("PATH")}";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using Process p = Process.Start(psi)!;
        p.StandardInput.Close();
        Task<string> err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return new ScriptResult(tool, p.ExitCode, stdout.Replace(tag, "T", StringComparison.Ordinal), err.Result.Replace(tag, "T", StringComparison.Ordinal));
    }

    /// <summary>Runs both and asserts the same exit code and the same stdout (JSON lines compared as JSON).</summary>
    public (ScriptResult Ip, ScriptResult Netns) AssertSame(string script)
    {
        (ScriptResult ip, ScriptResult netns) = Run(script);
        // LNT_DIFFERENTIAL_DUMP=DIR keeps both outputs of every scenario, for reading them side by side.
        if (Environment.GetEnvironmentVariable("LNT_DIFFERENTIAL_DUMP") is { Length: > 0 } dump)
        {
            Directory.CreateDirectory(dump);
            File.WriteAllText(Path.Combine(dump, $"{Prefix}.ip"), ip.StdOut + "--- stderr\n" + ip.StdErr);
            File.WriteAllText(Path.Combine(dump, $"{Prefix}.netns"), netns.StdOut + "--- stderr\n" + netns.StdErr);
        }
        string report = $"\n--- ip netns (exit {ip.ExitCode}) ---\n{ip.StdOut}{ip.StdErr}\n--- netns (exit {netns.ExitCode}) ---\n{netns.StdOut}{netns.StdErr}";
        ip.ExitCode.Should().Be(0, "the scenario script itself must run through with ip netns" + report);
        netns.ExitCode.Should().Be(ip.ExitCode, report);
        SameOutput(ip.StdOut, netns.StdOut).Should().BeTrue("stdout must be identical" + report);
        return (ip, netns);
    }

    /// <summary>Identical text, or identical but for lines that are equal JSON documents.</summary>
    public static bool SameOutput(string expected, string actual)
    {
        if (expected == actual) return true;
        string[] a = expected.Split('\n');
        string[] b = actual.Split('\n');
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i] && !SameJson(a[i], b[i])) return false;
        }
        return true;
    }

    private static bool SameJson(string a, string b)
    {
        try
        {
            return JsonNode.DeepEquals(JsonNode.Parse(a), JsonNode.Parse(b));
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private void WriteWrapper(string tool, string body)
    {
        string dir = Path.Combine(_dir, tool);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "nns");
        File.WriteAllText(path, "#!/bin/bash\n" + body + "\n", new UTF8Encoding(false));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary>What one run of a scenario printed, with the run tag replaced by <c>T</c>.</summary>
public sealed record ScriptResult(string Tool, int ExitCode, string StdOut, string StdErr);
