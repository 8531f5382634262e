namespace LinuxNetns.Testing.Rootless;

/// <summary>Where the pieces that start a helper are: its assembly, the <c>dotnet</c> host, util-linux <c>unshare</c>.</summary>
internal static class HelperLocation
{
    public const string AssemblyFileName = "LinuxNetns.Testing.Helper.dll";

    /// <summary>The helper's assembly: beside the application's (the package puts it there, as it puts LinuxNetns.Testing.dll),
    /// or beside LinuxNetns.Testing.dll where that was loaded from elsewhere.</summary>
    public static string Assembly()
    {
        string path = Path.Combine(AppContext.BaseDirectory, AssemblyFileName);
        if (File.Exists(path)) return path;
#pragma warning disable IL3000 // Location is empty in a single-file app; AppContext.BaseDirectory above covers that one
        string? beside = Path.GetDirectoryName(typeof(HelperLocation).Assembly.Location);
#pragma warning restore IL3000
        if (!string.IsNullOrEmpty(beside) && File.Exists(Path.Combine(beside, AssemblyFileName))) return Path.Combine(beside, AssemblyFileName);
        throw new NetworkNamespaceException(NamespaceOperation.UserNamespace, path, Errno.ENOENT,
            $"The helper of networks built without root, {AssemblyFileName}, is not in {AppContext.BaseDirectory}. It comes with " +
            "the LinuxNetns.Testing package, beside LinuxNetns.Testing.dll: restore and build the project again (or run as root, which needs no helper).");
    }

    /// <summary>The <c>dotnet</c> host that runs this process (or the one the SDK names, or the one on PATH).</summary>
    public static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileName(self) == "dotnet") return self;
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } named && File.Exists(named)) return named;
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "dotnet")))
            return Path.Combine(root, "dotnet");
        return OnPath("dotnet") ?? throw new NetworkNamespaceException(NamespaceOperation.UserNamespace, "dotnet", Errno.ENOENT,
            "A network built without root runs its helper with the dotnet host, and none was found (not this process, not " +
            "DOTNET_HOST_PATH, DOTNET_ROOT or PATH). Install the .NET runtime, or set DOTNET_ROOT.");
    }

    /// <summary>util-linux <c>unshare</c>.</summary>
    public static string Unshare() =>
        OnPath("unshare") ?? throw new NetworkNamespaceException(NamespaceOperation.UserNamespace, "unshare", Errno.ENOENT,
            "A network built without root starts its helper through util-linux unshare, which is not on PATH: install util-linux.");

    private static string? OnPath(string name)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
