namespace Netns;

// Waiting for the nsid API (links branch) and ExecInNamespace (exec branch).
internal sealed partial class NetnsCli
{
    private Dictionary<string, int> NsidsOf(IReadOnlyList<string> names) => [];

    private int Set(string[] args) => Fail("set: not available yet");

    private int ListId(string[] args) => Fail("list-id: not available yet");

    private int Exec(string[] args) => Fail("exec: not available yet");
}
