using System.Diagnostics;

namespace LinuxNetns.Tests.Infrastructure;

/// <summary>The result of a finished process.</summary>
public sealed record ShellResult(int ExitCode, string StdOut, string StdErr)
{
    public ShellResult EnsureSuccess()
    {
        if (ExitCode != 0) throw new InvalidOperationException($"exit {ExitCode}: {StdErr}{StdOut}");
        return this;
    }
}

/// <summary>Runs real tools (iproute2, util-linux) for comparison with the library.</summary>
public static class Shell
{
    public static ShellResult Run(string file, params string[] args) => RunWithInput(file, null, args);

    /// <summary>A program and its arguments as they are (no shell, nothing redirected).</summary>
    public static ProcessStartInfo StartInfo(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    public static ShellResult RunWithInput(string file, string? stdin, params string[] args)
    {
        ProcessStartInfo psi = StartInfo(file, args);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = stdin is not null;
        using Process p = Process.Start(psi)!;
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return new ShellResult(p.ExitCode, output, err.Result);
    }

    /// <summary><c>ip ARGS</c>.</summary>
    public static ShellResult Ip(params string[] args) => Run("ip", args);

    /// <summary><c>sh -c SCRIPT</c>.</summary>
    public static ShellResult Sh(string script) => Run("sh", "-c", script);
}
