using System.Diagnostics;
using LinuxNetns.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LinuxNetns.Tests;

/// <summary>
/// The runtime's lazily created threads over a process's whole life (docs/runtime-threads.md): a soak of every
/// operation in a fresh probe process built Release and one built like the tests, and the runtime settings that
/// docs/runtime-threads.md gives users for what the library cannot guarantee. Child processes, so that their runtime
/// threads (and settings) are their own; in the process-wide collection, so that they have the machine to themselves.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed class SoakTests(ITestOutputHelper output) : NamespaceTest
{
    // The runtime's idle timeouts driven down where it has a knob (docs/runtime-threads.md): the tiering worker exits
    // as soon as it is idle, thread-pool workers and the wait thread after 100 ms. The background GC thread has no
    // knob (20 s, hard-coded): the pauses between phases outlast it. Small gen0 budgets: many more collections.
    private static readonly Dictionary<string, string> SoakEnvironment = new()
    {
        ["DOTNET_TC_BackgroundWorkerTimeoutMs"] = "0",
        ["DOTNET_ThreadPool_ThreadTimeoutMs"] = "100",
        ["DOTNET_GCgen0size"] = "0x20000",
    };

    [RootFact]
    public void Soak_in_Release_and_Debug_leaves_no_runtime_thread_in_a_foreign_namespace()
    {
        string releaseDirectory = Path.Combine(Path.GetTempPath(), $"lnt-soak-probe-{Environment.ProcessId}");
        try
        {
            BuildReleaseProbe(releaseDirectory);
            // Two phases of 10 s, 21 s apart (the second starts after every idle timeout): the default runtime settings
            // otherwise (concurrent GC on, tiering on).
            string[] soak = ["soak", "2", "10000", "21000"];
            using Process release = StartProbe(Path.Combine(releaseDirectory, "LinuxNetns.TestProbe.dll"), soak, SoakEnvironment);
            using Process debug = StartProbe(Probe.DllPath, soak, SoakEnvironment);
            // RunAsync flows allocate on the switched loop (their code and the loop's continuations): with concurrent GC a
            // background GC triggered there creates .NET BGC inside (seen). So they soak with the setting the docs give.
            var noConcurrentGc = new Dictionary<string, string>(SoakEnvironment) { ["DOTNET_gcConcurrent"] = "0" };
            using Process flows = StartProbe(Path.Combine(releaseDirectory, "LinuxNetns.TestProbe.dll"), [.. soak, "run-async"], noConcurrentGc);
            (int releaseExit, string releaseOut) = Finish(release);
            (int debugExit, string debugOut) = Finish(debug);
            (int flowsExit, string flowsOut) = Finish(flows);
            output.WriteLine("Release probe:\n" + releaseOut);
            output.WriteLine("probe built with the tests:\n" + debugOut);
            output.WriteLine("Release probe with RunAsync flows, no concurrent GC:\n" + flowsOut);

            releaseOut.Should().Contain("phase 2:").And.Contain("ok ", "the Release soak ran every phase without a stray thread");
            releaseExit.Should().Be(0, releaseOut);
            debugOut.Should().Contain("phase 2:").And.Contain("ok ", "the soak ran every phase without a stray thread");
            debugExit.Should().Be(0, debugOut);
            flowsOut.Should().Contain("phase 2:").And.Contain("run-async").And.Contain("ok ", "the soak with RunAsync flows ran every phase without a stray thread");
            flowsExit.Should().Be(0, flowsOut);
        }
        finally
        {
            if (Directory.Exists(releaseDirectory)) Directory.Delete(releaseDirectory, recursive: true);
        }
    }

    [RootFact]
    public void Without_concurrent_GC_an_allocation_inside_Enter_never_creates_the_background_GC_thread_there()
    {
        // Allocations inside Enter until a gen2 collection happens there. With the default (concurrent) GC, the first
        // one the allocation budget triggers is a background GC, and this thread creates ".NET BGC", inside.
        var pressure = new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0x20000" };
        (int exit, string defaultOut) = Finish(StartProbe(Probe.DllPath, ["bgc-inside"], pressure));
        exit.Should().Be(0, defaultOut);
        defaultOut.Should().MatchRegex(@"ok gen2 [1-9]", defaultOut).And.Contain(".NET BGC(net)",
            "without the setting the background GC thread is born on the allocating, switched thread");

        // The setting the docs give users (System.GC.Concurrent=false, here as its environment form).
        var off = new Dictionary<string, string>(pressure) { ["DOTNET_gcConcurrent"] = "0" };
        (exit, string offOut) = Finish(StartProbe(Probe.DllPath, ["bgc-inside", "1"], off));
        exit.Should().Be(0, offOut);
        offOut.Should().MatchRegex(@"ok gen2 [1-9]", "a gen2 collection happened inside").And.NotContain(".NET BGC");
        offOut.Trim().Should().EndWith("strays:");
    }

    [RootFact]
    public void Without_tiered_compilation_there_is_no_tiering_worker_to_be_born_inside()
    {
        // New code run inside Enter, in bursts: with the default settings the runtime has a tiering worker (which a
        // first call or a call-count threshold inside can create there once it has idled out); with the setting the
        // docs give users (System.Runtime.TieredCompilation=false, here as its environment form) there is none at all.
        (int exit, string defaultOut) = Finish(StartProbe(Probe.DllPath, ["tiering-inside"], new Dictionary<string, string>()));
        exit.Should().Be(0, defaultOut);
        defaultOut.Should().StartWith("ok worker-seen True", "without the setting the runtime runs a tiering worker");

        var off = new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = "0" };
        (exit, string offOut) = Finish(StartProbe(Probe.DllPath, ["tiering-inside"], off));
        exit.Should().Be(0, offOut);
        offOut.Should().StartWith("ok worker-seen False", "with TieredCompilation off there is no worker thread");
        offOut.Trim().Should().EndWith("strays:");
    }

    private void BuildReleaseProbe(string outputDirectory)
    {
        string project = Path.Combine(RepositoryRoot(), "tests", "LinuxNetns.TestProbe", "LinuxNetns.TestProbe.csproj");
        var psi = new ProcessStartInfo(Probe.DotNet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "build", project, "-c", "Release", "-o", outputDirectory, "--nologo", "-v", "q" }) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        // The build's own env must not inherit the test host's runtime settings.
        psi.Environment.Remove("DOTNET_gcConcurrent");
        (int exit, string text) = Finish(Process.Start(psi)!);
        exit.Should().Be(0, "dotnet build -c Release of the probe failed:\n" + text);
    }

    private static Process StartProbe(string dll, string[] args, IReadOnlyDictionary<string, string> environment)
    {
        ProcessStartInfo psi = Probe.StartInfo([], args);
        psi.ArgumentList[0] = dll;
        foreach ((string key, string value) in environment) psi.Environment[key] = value;
        Process p = Process.Start(psi)!;
        p.StandardInput.Close();
        return p;
    }

    private static (int ExitCode, string Output) Finish(Process p)
    {
        using (p)
        {
            Task<string> err = p.StandardError.ReadToEndAsync();
            string text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, text + err.Result);
        }
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "LinuxNetns.sln"))) return d.FullName;
        }
        throw new InvalidOperationException($"LinuxNetns.sln not found above {AppContext.BaseDirectory}: the soak builds the probe from the repository.");
    }
}
