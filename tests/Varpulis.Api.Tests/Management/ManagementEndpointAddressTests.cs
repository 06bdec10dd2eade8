using Varpulis.Actors.Configuration;
using Varpulis.Api.Management;

namespace Varpulis.Api.Tests.Management;

/// <summary>
/// The host name in the management endpoint's links when the node binds every interface. A worker started as runbook
/// §1.2 says (`--bind 0.0.0.0 --advertise-address http://worker-0-host:9000`, no hostname) did not serve Akka.Management
/// at all: its self URI was `http://:8558/` ("Invalid URI: The hostname could not be parsed").
/// </summary>
public sealed class ManagementEndpointAddressTests
{
    private static VarpulisSettings Settings(string bind, string hostname = "", string? advertise = null)
    {
        var s = new VarpulisSettings();
        s.Server.Bind = bind;
        s.Cluster.Hostname = hostname;
        s.Cluster.AdvertiseAddress = advertise;
        return s;
    }

    [Fact]
    public void AWildcardBoundWorkerLinksToTheHostOfItsAdvertiseAddress()
        => Assert.Equal("worker-0-host", ManagementEndpointAddress.Of(Settings("0.0.0.0", advertise: "http://worker-0-host:9000")).Advertised);

    [Fact]
    public void AWildcardBoundNodeWithoutAdvertiseAddressLinksToTheMachinesName()
        => Assert.Equal(System.Net.Dns.GetHostName(), ManagementEndpointAddress.Of(Settings("0.0.0.0")).Advertised);

    [Fact]
    public void AConfiguredHostnameWins()
        => Assert.Equal("node-a", ManagementEndpointAddress.Of(Settings("0.0.0.0", "node-a", "http://worker-0-host:9000")).Advertised);

    [Fact]
    public void ANodeBoundToOneAddressLinksToIt()
        => Assert.Equal("127.0.0.1", ManagementEndpointAddress.Of(Settings("127.0.0.1", advertise: "http://worker-0-host:9000")).Advertised);
}
