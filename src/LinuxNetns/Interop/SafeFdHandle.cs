using System.Runtime.InteropServices;

namespace LinuxNetns.Interop;

/// <summary>An owned file descriptor; closed exactly once, when released.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    public SafeFdHandle() : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    public SafeFdHandle(int fd, bool ownsHandle = true) : base(invalidHandleValue: -1, ownsHandle)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle == -1;

    /// <summary>The raw descriptor, for syscalls made while the caller keeps this handle alive.</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Libc.CloseRaw((int)handle) == 0;
}
