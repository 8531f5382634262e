using System.Runtime.InteropServices;
using System.Text;
using LinuxNetns.Threads;

namespace LinuxNetns.Exec;

/// <summary>
/// Unmanaged memory for one exec window's plan (strings, arrays, opaque libc structures), all freed together on
/// <see cref="Dispose"/>. Made at home; the window only reads it.
/// </summary>
internal sealed unsafe class NativeAllocations : IDisposable
{
    private readonly List<nint> _blocks = [];

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="value"/>.</summary>
    public byte* Utf8(string value) => Track(CopyUtf8(value));

    /// <summary><paramref name="count"/> zeroed <typeparamref name="T"/>s (at least one).</summary>
    public T* Alloc<T>(int count = 1) where T : unmanaged =>
        (T*)Track(NativeMemory.AllocZeroed((nuint)(sizeof(T) * Math.Max(1, count))));

    /// <summary><paramref name="size"/> zeroed bytes, for a structure only libc knows the layout of.</summary>
    public void* AllocBytes(int size) => Track(NativeMemory.AllocZeroed((nuint)size));

    public void Dispose()
    {
        foreach (nint p in _blocks) NativeMemory.Free((void*)p);
        _blocks.Clear();
    }

    /// <summary>A NUL-terminated UTF-8 copy that nothing frees (for constants that live as long as the process).</summary>
    public static byte* CopyUtf8(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        var p = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(value, new Span<byte>(p, length));
        p[length] = 0;
        return p;
    }

    private T* Track<T>(T* p) where T : unmanaged
    {
        _blocks.Add((nint)p);
        return p;
    }

    private void* Track(void* p)
    {
        _blocks.Add((nint)p);
        return p;
    }
}
