using System.Text;

namespace Netns;

/// <summary>
/// Standard output and error as iproute2 uses them, written straight to descriptors 1 and 2, one write per call.
/// </summary>
/// <remarks>
/// <see cref="Console"/> would cost a short command much of its run time: on first use it starts a signal-handling
/// thread, installs SIGINT/SIGQUIT/SIGCONT handlers and queries the terminal. Each call writes through at once (no
/// buffer to flush before <c>exec</c> starts a child, nothing lost on exit). A reader that went away (EPIPE) ends
/// the output silently, as Console does.
/// </remarks>
internal static class Stdio
{
    private const int StandardOutput = 1;
    private const int StandardError = 2;

    public static void Out(string text) => Write(StandardOutput, text);

    public static void Error(string text) => Write(StandardError, text);

    private static void Write(int fd, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        int done = 0;
        while (done < bytes.Length)
        {
            int n = Native.Write(fd, bytes.AsSpan(done));
            if (n < 0) return; // EPIPE, or a descriptor that was closed: nowhere left to report it
            done += n;
        }
    }
}
