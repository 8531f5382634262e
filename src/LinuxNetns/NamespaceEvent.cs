namespace LinuxNetns;

/// <summary>What happened to a name in the run directory.</summary>
public enum NamespaceEventKind
{
    /// <summary>A name appeared (<c>ip netns add</c>, <c>attach</c>, <see cref="NetworkNamespace.Create(string)"/>, <see cref="NetworkNamespace.Pin(string)"/>).</summary>
    Added,

    /// <summary>A name was removed (<c>ip netns delete</c>, <see cref="NetworkNamespace.Delete(string)"/>).</summary>
    Deleted,
}

/// <summary>
/// A change in the run directory, as <c>ip netns monitor</c> reports it. An add is reported when the name's file is
/// created, just before the namespace is mounted on it; a delete when the file is removed.
/// </summary>
/// <param name="Kind">Added or deleted.</param>
/// <param name="Name">The namespace name (the file name in the run directory).</param>
public readonly record struct NamespaceEvent(NamespaceEventKind Kind, string Name)
{
    /// <summary>The line <c>ip netns monitor</c> prints: <c>add NAME</c> or <c>delete NAME</c>.</summary>
    public override string ToString() => Kind == NamespaceEventKind.Added ? $"add {Name}" : $"delete {Name}";
}
