using System.Runtime.InteropServices;
using LinuxNetns.Interop;

namespace Netns;

/// <summary>
/// The native netns is a statically linked executable (docs/netns-tool.md, "Statically linked"): the libc functions
/// that the library calls through function pointers (<see cref="SwitchedCalls"/>) come from the table in
/// <c>LinkedLibc.c</c>, linked into it, since there is no libc.so.6 to look them up in.
/// </summary>
internal static unsafe partial class LinkedLibc
{
    /// <summary>
    /// Offers the table to the library, which asks it only where the process has no dynamic libc to look in: in the
    /// static native build. The framework-dependent tool (and a native one built with StaticExecutable false) never
    /// calls it, so its P/Invoke, which only the NativeAOT link resolves, is never bound there.
    /// </summary>
    public static void Offer() => SwitchedCalls.LinkedFunctions = Lookup;

    private static nint Lookup(string name)
    {
        // The names are ASCII.
        byte* utf8 = stackalloc byte[name.Length + 1];
        for (int i = 0; i < name.Length; i++) utf8[i] = (byte)name[i];
        utf8[name.Length] = 0;
        return LinkedFunction(utf8);
    }

    [LibraryImport("netns-linked", EntryPoint = "netns_linked_libc")]
    private static partial nint LinkedFunction(byte* name);
}
