namespace LinuxNetns.Testing.Rootless;

/// <summary>
/// Why a user namespace could not be made: the kernel settings that forbid them to unprivileged users, named in the
/// error with what to change.
/// </summary>
internal static class UserNamespaceSupport
{
    /// <summary>The settings that can refuse an unprivileged user namespace, as /proc/sys paths, with their sysctl names.</summary>
    internal static readonly (string Path, string Name, string Refuses, string Advice)[] Settings =
    [
        ("kernel/unprivileged_userns_clone", "kernel.unprivileged_userns_clone", "0",
            "Debian and older Ubuntu kernels turn unprivileged user namespaces off with it: `sysctl -w kernel.unprivileged_userns_clone=1`"),
        ("user/max_user_namespaces", "user.max_user_namespaces", "0",
            "0 allows none: `sysctl -w user.max_user_namespaces=15000` (a usual default)"),
        ("kernel/apparmor_restrict_unprivileged_userns", "kernel.apparmor_restrict_unprivileged_userns", "1",
            "AppArmor (Ubuntu 23.10 and later) lets only profiled programs make them: give dotnet an AppArmor profile with `userns,`, or `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`"),
    ];

    /// <summary>The error for an <c>unshare</c> that exited before its helper connected.</summary>
    /// <param name="exitCode">unshare's exit code.</param>
    /// <param name="said">What it (or the helper) wrote to standard error.</param>
    /// <param name="procSys">Where /proc/sys is (tests point it elsewhere).</param>
    public static NetworkNamespaceException StartFailed(int exitCode, string said, string procSys = "/proc/sys")
    {
        Errno errno = said.Contains("No space left on device", StringComparison.Ordinal) ? Errno.ENOSPC
            : said.Contains("Operation not permitted", StringComparison.Ordinal) ? Errno.EPERM
            : said.Contains("Permission denied", StringComparison.Ordinal) ? Errno.EACCES
            : Errno.None;
        string output = said.Length > 0 ? $" It said: {said}" : "";
        bool userNamespaceRefused = said.StartsWith("unshare:", StringComparison.Ordinal) && said.Contains("unshare failed", StringComparison.Ordinal);
        if (!userNamespaceRefused)
        {
            return new NetworkNamespaceException(NamespaceOperation.UserNamespace, "unshare", errno,
                $"The user-namespace helper of a network built without root exited with {exitCode} before it connected.{output}");
        }
        var causes = new List<string>();
        foreach ((string path, string name, string refuses, string advice) in Settings)
        {
            string? value = Read(Path.Combine(procSys, path));
            if (value == refuses) causes.Add($"{name} is {value}: {advice}");
        }
        if (causes.Count == 0 && errno == Errno.ENOSPC)
            causes.Add("user.max_user_namespaces (of this or an enclosing user namespace) is reached: raise it with sysctl, or end other user namespaces");
        string why = causes.Count > 0
            ? string.Join("; ", causes)
            : "none of kernel.unprivileged_userns_clone, user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns forbids it here, so a security module or a container's seccomp filter may (see the audit log)";
        return new NamespacePermissionException(NamespaceOperation.UserNamespace, "unshare --user", errno,
            $"A network built without root needs an unprivileged user namespace, and the kernel refused one (unshare --user: {errno}). {why}. Or run as root, which needs none.{output}");
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
