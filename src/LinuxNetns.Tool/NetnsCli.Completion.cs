namespace Netns;

// completion: an extension beyond ip netns (docs/netns-tool.md). Prints the shell completion script.
internal sealed partial class NetnsCli
{
    // The script is completion/netns.bash, embedded under this name (LinuxNetns.Tool.csproj): a resource stream
    // needs no reflection, so it works in a NativeAOT build too.
    private const string BashCompletionResource = "netns.bash";

    /// <summary><c>completion bash</c>: the bash completion script on stdout.</summary>
    private static int Completion(string[] args)
    {
        if (args.Length == 0)
        {
            Error("Usage: netns completion bash");
            return UsageFailure;
        }
        if (args is not ["bash"])
        {
            Error(args.Length > 1
                ? "Error: too many arguments, try \"netns completion bash\"."
                : $"Error: no completion for shell \"{args[0]}\", only bash: try \"netns completion bash\".");
            return UsageFailure;
        }
        using Stream script = typeof(NetnsCli).Assembly.GetManifestResourceStream(BashCompletionResource)
            ?? throw new InvalidOperationException($"the resource {BashCompletionResource} is missing from the build");
        using var reader = new StreamReader(script);
        Stdio.Out(reader.ReadToEnd());
        return 0;
    }
}
