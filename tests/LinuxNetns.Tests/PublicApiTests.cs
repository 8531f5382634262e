using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using LinuxNetns.Testing;

namespace LinuxNetns.Tests;

/// <summary>
/// The public surface of the packages, compared with the checked-in PublicApi.approved.txt: a change of the API is
/// a deliberate act (update the file, review the diff), never an accident.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void Public_api_matches_the_approved_file()
    {
        string actual = Describe(typeof(NetworkNamespace).Assembly) + Describe(typeof(VirtualNetwork).Assembly);
        string approvedPath = Path.Combine(SourceDirectory(), "PublicApi.approved.txt");
        string approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath) : "";
        if (actual != approved)
        {
            File.WriteAllText(Path.Combine(SourceDirectory(), "PublicApi.received.txt"), actual);
        }
        actual.Should().Be(approved,
            "the public API changed: if that is intended, copy PublicApi.received.txt over PublicApi.approved.txt and review the diff");
    }

    private static string Describe(Assembly assembly)
    {
        var sb = new StringBuilder();
        sb.Append("assembly ").Append(assembly.GetName().Name).Append('\n');
        foreach (Type type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            sb.Append(Kind(type)).Append(' ').Append(type.FullName);
            if (type.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum)) sb.Append(" : ").Append(b.FullName);
            sb.Append('\n');
            const BindingFlags flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            IEnumerable<string> members = type.GetMembers(flags)
                .Where(IsVisible)
                .Where(m => !(m is MethodInfo mi && mi.IsSpecialName)) // property and event accessors appear with their owner
                .Select(m => $"  {m.MemberType.ToString().ToLowerInvariant()} {m}")
                .OrderBy(s => s, StringComparer.Ordinal);
            foreach (string m in members) sb.Append(m).Append('\n');
        }
        return sb.ToString();
    }

    private static string Kind(Type t) =>
        t.IsEnum ? "enum" : t.IsInterface ? "interface" : t.IsValueType ? (t.IsByRefLike ? "ref struct" : "struct") :
        t.IsAbstract && t.IsSealed ? "static class" : t.IsSealed ? "sealed class" : "class";

    private static bool IsVisible(MemberInfo m) => m switch
    {
        MethodBase mb => mb.IsPublic || mb.IsFamily || mb.IsFamilyOrAssembly,
        FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
        PropertyInfo p => (p.GetMethod ?? p.SetMethod) is { } a && (a.IsPublic || a.IsFamily || a.IsFamilyOrAssembly),
        EventInfo e => e.AddMethod is { } a && (a.IsPublic || a.IsFamily),
        Type nested => nested.IsNestedPublic,
        _ => false,
    };

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
