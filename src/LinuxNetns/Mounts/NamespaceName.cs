using System.Text;

namespace LinuxNetns.Mounts;

/// <summary>iproute2's rule for namespace names (ip/ipnetns.c), plus: no NUL.</summary>
internal static class NamespaceName
{
    private const int NameMax = 255;

    public static void Validate(string name, string paramName = "name")
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        string? why =
            name.Length == 0 ? "it is empty" :
            name.Contains('\0') ? "it contains a NUL character" :
            Encoding.UTF8.GetByteCount(name) > NameMax ? $"it is longer than {NameMax} bytes" :
            name.Contains('/') ? "it contains '/'" :
            name is "." or ".." ? "it is \".\" or \"..\"" :
            null;
        if (why is not null)
        {
            string shown = name.Replace("\0", "\\0");
            throw new ArgumentException($"Invalid netns name \"{shown}\": {why}. A name is 1 to {NameMax} bytes, without '/' or NUL, and not \".\" or \"..\".", paramName);
        }
    }
}
