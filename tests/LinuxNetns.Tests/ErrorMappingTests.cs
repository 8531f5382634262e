using System.Runtime.InteropServices;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>
/// The one mapping of (operation, errno) to the exception type, and the errno table: what the netns tool and callers
/// decide on, so a change to either shows here.
/// </summary>
public sealed class ErrorMappingTests : NamespaceTest
{
    [Fact]
    public void Every_errno_member_is_a_value_the_C_library_knows()
    {
        // A member numbered wrongly into one of the table's gaps (41, 58) or past its end reads "Unknown error N".
        foreach (Errno errno in Enum.GetValues<Errno>().Where(e => e != Errno.None))
            Marshal.GetPInvokeErrorMessage((int)errno).Should().NotStartWith("Unknown error", $"{errno} = {(int)errno}");
        ((int)Errno.EPERM, (int)Errno.ENOENT, (int)Errno.EEXIST, (int)Errno.EOPNOTSUPP, (int)Errno.EHWPOISON).Should().Be((1, 2, 17, 95, 133));
    }

    [Fact]
    public void Messages_say_errno_in_words_and_by_name()
    {
        NamespaceErrors.Describe(Errno.ENOENT).Should().Be("No such file or directory (ENOENT)");
        NamespaceErrors.Describe((Errno)200).Should().EndWith("(errno 200)");
    }

    public static TheoryData<NamespaceOperation, Errno, Type> Mapping => new()
    {
        { NamespaceOperation.CreatePlaceholder, Errno.EEXIST, typeof(NamespaceAlreadyExistsException) },
        { NamespaceOperation.Unlink, Errno.EBUSY, typeof(NamespaceBusyException) },
        { NamespaceOperation.Unmount, Errno.EBUSY, typeof(NamespaceBusyException) },
        { NamespaceOperation.Unlink, Errno.ENOENT, typeof(NamespaceNotFoundException) },
        { NamespaceOperation.OpenNamespaceFile, Errno.ENOENT, typeof(NamespaceNotFoundException) },
        { NamespaceOperation.OpenProcess, Errno.ESRCH, typeof(NamespaceNotFoundException) },
        { NamespaceOperation.SetnsNetwork, Errno.EPERM, typeof(NamespacePermissionException) },
        { NamespaceOperation.BindNamespace, Errno.EACCES, typeof(NamespacePermissionException) },
        { NamespaceOperation.RestoreNamespace, Errno.EINVAL, typeof(NamespaceRestoreException) },
        // ENOENT of a step whose path is not the namespace is no "namespace not found"; EEXIST/EBUSY elsewhere are plain.
        { NamespaceOperation.MountSysfs, Errno.ENOENT, typeof(NetworkNamespaceException) },
        { NamespaceOperation.MakeRunDirectory, Errno.ENOENT, typeof(NetworkNamespaceException) },
        { NamespaceOperation.BindRunDirectory, Errno.EBUSY, typeof(NetworkNamespaceException) },
        { NamespaceOperation.InotifyInit, Errno.EEXIST, typeof(NetworkNamespaceException) },
    };

    [Theory]
    [MemberData(nameof(Mapping))]
    public void An_operation_and_errno_map_to_one_exception_type(NamespaceOperation operation, Errno errno, Type expected)
    {
        NetworkNamespaceException e = NamespaceErrors.Failed(operation, "do the step", "/run/netns/x", errno, "Do this.");
        e.GetType().Should().Be(expected);
        (e.Operation, e.Errno, e.Target).Should().Be((operation, errno, "/run/netns/x"));
        e.Message.Should().StartWith($"do the step \"/run/netns/x\" failed: ").And.Contain($"({errno}).");
        if (expected == typeof(NamespacePermissionException)) e.Message.Should().Contain("CAP_SYS_ADMIN");
        else e.Message.Should().EndWith("Do this.");
    }

    [RootFact]
    public void A_real_EEXIST_from_attach_names_the_placeholder_step()
    {
        string name = NewName("errattach");
        using NetworkNamespace ns = NetworkNamespace.Create(name);
        try
        {
            FluentActions.Invoking(() => ns.Pin(name)).Should().Throw<NamespaceAlreadyExistsException>()
                .Where(e => e.Operation == NamespaceOperation.CreatePlaceholder && e.Errno == Errno.EEXIST && e.Target == $"/run/netns/{name}");
        }
        finally
        {
            NetworkNamespace.Delete(name);
        }
    }

    [RootFact]
    public void A_file_that_is_no_namespace_has_no_errno()
    {
        FluentActions.Invoking(() => NetworkNamespace.OpenPath("/proc/self/ns/mnt")).Should().Throw<NotANetworkNamespaceException>()
            .Where(e => e.Operation == NamespaceOperation.OpenNamespaceFile && e.Errno == Errno.None && e.Problem == PlaceholderProblem.WrongNamespaceType);
    }
}
