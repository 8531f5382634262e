namespace LinuxNetns;

/// <summary>
/// The identity of a namespace: device and inode of its nsfs file, as <c>stat -L</c> reports them. Two handles
/// refer to the same namespace exactly when their ids are equal. An inode number may be reused once a namespace
/// has died, so compare ids of namespaces you hold open.
/// </summary>
/// <param name="Device">st_dev of the nsfs file.</param>
/// <param name="Inode">st_ino of the nsfs file.</param>
public readonly record struct NamespaceId(ulong Device, ulong Inode)
{
    /// <summary>The kernel's notation, as in <c>readlink /proc/PID/ns/net</c>: <c>net:[4026531840]</c>.</summary>
    public override string ToString() => $"net:[{Inode}]";
}
