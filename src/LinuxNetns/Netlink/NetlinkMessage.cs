using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace LinuxNetns.Netlink;

/// <summary>One received netlink message: its header fields and a copy of its payload.</summary>
internal sealed class NetlinkMessage(ushort type, ushort flags, uint sequence, uint portId, byte[] payload)
{
    public ushort Type { get; } = type;
    public ushort Flags { get; } = flags;
    public uint Sequence { get; } = sequence;
    public uint PortId { get; } = portId;

    /// <summary>Everything after the nlmsghdr.</summary>
    public byte[] Payload { get; } = payload;

    /// <summary>Reads the fixed family header at the start of the payload (zero-filled if the payload is shorter).</summary>
    public T Header<T>() where T : unmanaged => ReadHeader<T>(Payload);

    /// <summary>The attributes that follow a fixed header of <typeparamref name="T"/>.</summary>
    public AttributeReader Attributes<T>() where T : unmanaged => AttributesAfter<T>(Payload);

    /// <summary>Reads the fixed family header at the start of <paramref name="payload"/> (zero-filled if it is shorter).</summary>
    public static T ReadHeader<T>(ReadOnlySpan<byte> payload) where T : unmanaged
    {
        int size = Marshal.SizeOf<T>();
        if (payload.Length >= size) return MemoryMarshal.Read<T>(payload);
        Span<byte> padded = stackalloc byte[size];
        payload.CopyTo(padded);
        return MemoryMarshal.Read<T>(padded);
    }

    /// <summary>The attributes of <paramref name="payload"/> after its fixed header of <typeparamref name="T"/>.</summary>
    public static AttributeReader AttributesAfter<T>(ReadOnlySpan<byte> payload) where T : unmanaged
    {
        int start = Rtnl.Align(Marshal.SizeOf<T>());
        return new AttributeReader(start >= payload.Length ? ReadOnlySpan<byte>.Empty : payload[start..]);
    }

    /// <summary>
    /// struct nlmsgerr: a negative errno, the header of our request (its payload too unless capped), then, with
    /// NLM_F_ACK_TLVS, the extended-ACK attributes. NLMSG_DONE carries only the errno and the attributes.
    /// <c>Malformed</c> says what is wrong when an NLMSG_ERROR is too short to be one: it is neither ACK nor refusal.
    /// </summary>
    public (int Errno, string? Text, string? Malformed) ParseError()
    {
        ReadOnlySpan<byte> p = Payload;
        if (Type == Rtnl.NLMSG_ERROR && p.Length < 4 + Rtnl.HeaderLength)
        {
            return (0, null, $"an NLMSG_ERROR of {p.Length} payload bytes, shorter than struct nlmsgerr ({4 + Rtnl.HeaderLength})");
        }
        if (p.Length < 4) return (0, null, null);
        int errno = -BinaryPrimitives.ReadInt32LittleEndian(p);
        if ((Flags & Rtnl.NLM_F_ACK_TLVS) == 0) return (errno, null, null);

        int offset = 4;
        if (Type == Rtnl.NLMSG_ERROR)
        {
            int echoed = (Flags & Rtnl.NLM_F_CAPPED) != 0
                ? Rtnl.HeaderLength
                : (int)BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
            offset = 4 + Rtnl.Align(echoed);
        }
        if (offset >= p.Length) return (errno, null, null);
        var reader = new AttributeReader(p[offset..]);
        while (reader.MoveNext())
        {
            if (reader.Type == Rtnl.NLMSGERR_ATTR_MSG) return (errno, reader.String, null);
        }
        return (errno, null, null);
    }

    /// <summary>
    /// Splits a datagram into messages. Returns null, or what is wrong with the datagram when a header is truncated or
    /// claims more bytes than there are (then the messages before it have been added, nothing is read past it).
    /// </summary>
    public static string? Split(ReadOnlySpan<byte> datagram, List<NetlinkMessage> into)
    {
        int offset = 0;
        while (datagram.Length > 0)
        {
            if (datagram.Length < Rtnl.HeaderLength)
                return $"{datagram.Length} stray bytes at offset {offset} of the datagram, too few for a message header";
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            if (length < Rtnl.HeaderLength || length > datagram.Length)
                return $"a message at offset {offset} claims {length} bytes, of {datagram.Length} left in the datagram";
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(datagram[6..]);
            uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(datagram[8..]);
            uint portId = BinaryPrimitives.ReadUInt32LittleEndian(datagram[12..]);
            into.Add(new NetlinkMessage(type, flags, sequence, portId, datagram[Rtnl.HeaderLength..length].ToArray()));
            int next = Rtnl.Align(length);
            if (next >= datagram.Length) break;
            datagram = datagram[next..];
            offset += next;
        }
        return null;
    }
}

/// <summary>Walks a run of netlink attributes (type with the NESTED / NET_BYTEORDER bits masked off, payload).</summary>
internal ref struct AttributeReader
{
    private ReadOnlySpan<byte> _rest;

    public AttributeReader(ReadOnlySpan<byte> attributes)
    {
        _rest = attributes;
        Type = 0;
        Value = default;
    }

    public ushort Type { get; private set; }

    public ReadOnlySpan<byte> Value { get; private set; }

    /// <summary>Advances to the next attribute; false at the end (or at a malformed tail, which is ignored).</summary>
    public bool MoveNext()
    {
        if (_rest.Length < Rtnl.AttributeHeaderLength) return false;
        int length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        if (length < Rtnl.AttributeHeaderLength || length > _rest.Length) return false;
        Type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & Rtnl.NLA_TYPE_MASK);
        Value = _rest[Rtnl.AttributeHeaderLength..length];
        int next = Rtnl.Align(length);
        _rest = next >= _rest.Length ? ReadOnlySpan<byte>.Empty : _rest[next..];
        return true;
    }

    public readonly AttributeReader GetEnumerator() => this;

    public readonly AttributeReader Current => this;

    // ---- value decoders ----

    public readonly byte U8 => Value.Length >= 1 ? Value[0] : (byte)0;

    public readonly uint U32 => Value.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Value) : 0;

    public readonly int S32 => unchecked((int)U32);

    /// <summary>A string attribute, without its terminating NUL.</summary>
    public readonly string String
    {
        get
        {
            ReadOnlySpan<byte> v = Value;
            int nul = v.IndexOf((byte)0);
            return Encoding.UTF8.GetString(nul < 0 ? v : v[..nul]);
        }
    }

    /// <summary>An address attribute (4 or 16 bytes, network order).</summary>
    public readonly IPAddress? Address => Value.Length is 4 or 16 ? new IPAddress(Value) : null;

    /// <summary>The attributes nested in this one.</summary>
    public readonly AttributeReader Nested => new(Value);
}
