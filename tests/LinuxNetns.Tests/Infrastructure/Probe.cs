using System.Diagnostics;

namespace LinuxNetns.Tests.Infrastructure;

/// <summary>Starts LinuxNetns.TestProbe (built beside the tests) as a separate process.</summary>
public static class Probe
{
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "LinuxNetns.TestProbe.dll");

    /// <summary>The command line that runs the probe: <c>dotnet PROBE.dll ARGS</c>, optionally behind a wrapper (setpriv, unshare).</summary>
    public static ProcessStartInfo StartInfo(string[] wrapper, params string[] args)
    {
        var psi = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : DotNet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string w in wrapper.Skip(1)) psi.ArgumentList.Add(w);
        if (wrapper.Length > 0) psi.ArgumentList.Add(DotNet);
        psi.ArgumentList.Add(DllPath);
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        // No debugger pipes or diagnostic socket in TMPDIR: a probe that a test kills could not remove them.
        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        return psi;
    }

    public static ShellResult Run(string[] wrapper, params string[] args)
    {
        using Process p = Process.Start(StartInfo(wrapper, args))!;
        p.StandardInput.Close();
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return new ShellResult(p.ExitCode, output, err.Result);
    }

    /// <summary>The dotnet host running this test process.</summary>
    public static string DotNet => Environment.ProcessPath ?? "dotnet";
}
