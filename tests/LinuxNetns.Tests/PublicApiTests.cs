using System.Reflection;
using System.Runtime.CompilerServices;
using LinuxNetns.Testing;
using PublicApiGenerator;

namespace LinuxNetns.Tests;

/// <summary>
/// The public surface of the packages, compared with the checked-in PublicApi.approved.txt: a change of the API is
/// a deliberate act (update the file, review the diff), never an accident. The surface is written by
/// PublicApiGenerator as C# declarations, so the diff of an API change reads like code.
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
        var options = new ApiGeneratorOptions
        {
            // The assembly attributes (InternalsVisibleTo, target framework) are build details, not API.
            ExcludeAttributes = ["System.Runtime.CompilerServices.InternalsVisibleToAttribute", "System.Runtime.Versioning.TargetFrameworkAttribute"],
        };
        return $"// assembly {assembly.GetName().Name}\n{assembly.GeneratePublicApi(options).ReplaceLineEndings("\n")}\n";
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
