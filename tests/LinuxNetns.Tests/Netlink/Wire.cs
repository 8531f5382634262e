using System.Buffers.Binary;
using System.Text;
using LinuxNetns.Netlink;

namespace LinuxNetns.Tests.Netlink;

/// <summary>
/// Hand-made netlink bytes for the codec tests: hex as the uapi structs lay it out, and kernel-style replies put
/// together attribute by attribute (little-endian host order, addresses in network order, each nlattr padded to 4).
/// </summary>
internal static class Wire
{
    /// <summary>Bytes from hex; spaces and line breaks are for grouping only.</summary>
    public static byte[] Hex(string hex) => Convert.FromHexString(string.Concat(hex.Where(c => !char.IsWhiteSpace(c))));

    /// <summary>The finished request as the socket would send it, with sequence 1.</summary>
    public static string Sent(NetlinkRequest request) => Convert.ToHexString(request.Complete(1)).ToLowerInvariant();

    public static string HexOf(string hex) => Convert.ToHexString(Hex(hex)).ToLowerInvariant();

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>One nlattr: length (without padding), type, value, padding to 4.</summary>
    public static byte[] Attr(ushort type, byte[] value)
    {
        byte[] a = new byte[(4 + value.Length + 3) & ~3];
        BinaryPrimitives.WriteUInt16LittleEndian(a, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(a.AsSpan(2), type);
        value.CopyTo(a, 4);
        return a;
    }

    public static byte[] Attr(ushort type, string value) => Attr(type, Encoding.UTF8.GetBytes(value + "\0"));

    public static byte[] Attr(ushort type, int value) => Attr(type, BitConverter.GetBytes(value));

    public static byte[] Nest(ushort type, params byte[][] children) => Attr(type, Concat(children));

    public static NetlinkMessage Message(ushort type, params byte[][] payload) => new(type, 0, 1, 0, Concat(payload));

    public static byte[] U32(uint value) => BitConverter.GetBytes(value);
}
