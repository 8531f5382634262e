namespace Netns;

// Waiting for ExecInNamespace (exec branch).
internal sealed partial class NetnsCli
{
    private int Exec(string[] args) => Fail("exec: not available yet");
}
