using System.Runtime.InteropServices;

namespace LinuxNetns.Tests.Infrastructure;

/// <summary>A test that needs root (real namespaces and mounts); skipped, with the reason, otherwise.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Privilege.IsRoot) Skip = Privilege.SkipReason;
    }
}

/// <summary>A data-driven <see cref="RootFactAttribute"/>.</summary>
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute()
    {
        if (!Privilege.IsRoot) Skip = Privilege.SkipReason;
    }
}

internal static partial class Privilege
{
    public const string SkipReason = "needs root (CAP_SYS_ADMIN) to create namespaces and mounts; run the tests as root";

    public static bool IsRoot => geteuid() == 0;

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
