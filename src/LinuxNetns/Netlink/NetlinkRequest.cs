using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace LinuxNetns.Netlink;

/// <summary>
/// Builds one netlink request: a <c>nlmsghdr</c>, a fixed family header (<c>rtgenmsg</c>, <c>ifinfomsg</c>,
/// <c>ifaddrmsg</c>, <c>rtmsg</c>), then attributes, each padded to 4 bytes, nested ones with their length
/// filled in when closed. Host byte order throughout, as rtnetlink expects (addresses excepted: network order).
/// </summary>
internal sealed class NetlinkRequest
{
    private byte[] _buffer = new byte[128];
    private int _length;
    private readonly Stack<int> _open = new();

    /// <summary>Starts a request of <paramref name="type"/>; NLM_F_REQUEST is always set.</summary>
    public NetlinkRequest(ushort type, ushort flags)
    {
        Type = type;
        Flags = (ushort)(flags | Rtnl.NLM_F_REQUEST);
        _length = Rtnl.HeaderLength;
    }

    public ushort Type { get; }

    public ushort Flags { get; private set; }

    /// <summary>The symbolic name of <see cref="Type"/> (e.g. <c>RTM_NEWADDR</c>), for messages.</summary>
    public string TypeName => Rtnl.TypeName(Type);

    /// <summary>Adds flags (e.g. NLM_F_ACK or NLM_F_DUMP) before sending.</summary>
    public void AddFlags(ushort flags) => Flags |= flags;

    /// <summary>Appends a fixed family header (a blittable struct) padded to 4 bytes.</summary>
    public void Header<T>(in T header) where T : unmanaged
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in header));
        Append(bytes);
    }

    /// <summary>Appends an attribute with a raw payload.</summary>
    public void Attribute(ushort type, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[Rtnl.AttributeHeaderLength];
        BinaryPrimitives.WriteUInt16LittleEndian(header, checked((ushort)(Rtnl.AttributeHeaderLength + payload.Length)));
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], type);
        Append(header);
        Append(payload);
    }

    public void AttributeU8(ushort type, byte value) => Attribute(type, [value]);

    public void AttributeU32(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        MemoryMarshal.Write(b, in value);
        Attribute(type, b);
    }

    public void AttributeS32(ushort type, int value) => AttributeU32(type, unchecked((uint)value));

    public void AttributeU64(ushort type, ulong value) => AttributeStruct(type, value);

    /// <summary>An attribute whose payload is a blittable struct, as the kernel's own struct (e.g. tc_tbf_qopt).</summary>
    public void AttributeStruct<T>(ushort type, in T value) where T : unmanaged =>
        Attribute(type, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    /// <summary>A NUL-terminated string attribute (NLA_STRING / NLA_NUL_STRING both accept it).</summary>
    public void AttributeString(ushort type, string value)
    {
        if (value.Contains('\0')) throw new ArgumentException($"\"{value.Replace("\0", "\\0")}\" contains a NUL character.", nameof(value));
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        Attribute(type, bytes);
    }

    /// <summary>An IPv4 or IPv6 address in network byte order.</summary>
    public void AttributeAddress(ushort type, IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        if (!address.TryWriteBytes(b, out int written)) throw new ArgumentException($"Cannot encode address {address}.", nameof(address));
        Attribute(type, b[..written]);
    }

    /// <summary>Opens a nested attribute; everything appended until <see cref="EndNested"/> is inside it.</summary>
    public void BeginNested(ushort type)
    {
        _open.Push(_length);
        Span<byte> header = stackalloc byte[Rtnl.AttributeHeaderLength];
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], type);
        Append(header);
    }

    /// <summary>Closes the innermost nested attribute, filling in its length.</summary>
    public void EndNested()
    {
        int start = _open.Pop();
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), checked((ushort)(_length - start)));
    }

    /// <summary>The finished message with <paramref name="sequence"/> filled in.</summary>
    public ReadOnlySpan<byte> Complete(uint sequence)
    {
        if (_open.Count != 0) throw new InvalidOperationException("A nested attribute was not closed.");
        Span<byte> h = _buffer.AsSpan(0, Rtnl.HeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)_length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0); // port id 0: the kernel fills in ours
        return _buffer.AsSpan(0, _length);
    }

    /// <summary>The request's size so far, in bytes.</summary>
    public int Length => _length;

    private void Append(ReadOnlySpan<byte> data)
    {
        int padded = Rtnl.Align(data.Length);
        EnsureCapacity(_length + padded);
        data.CopyTo(_buffer.AsSpan(_length));
        _buffer.AsSpan(_length + data.Length, padded - data.Length).Clear();
        _length += padded;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _buffer.Length) return;
        Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
    }

    /// <summary>The netlink family byte of an address.</summary>
    public static byte FamilyOf(IPAddress address) => address.AddressFamily switch
    {
        AddressFamily.InterNetwork => Rtnl.AF_INET,
        AddressFamily.InterNetworkV6 => Rtnl.AF_INET6,
        _ => throw new ArgumentException($"{address} is neither an IPv4 nor an IPv6 address.", nameof(address)),
    };
}
