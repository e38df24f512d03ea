// A container runtime in miniature on libcni (Debian's golang-github-appc-cni-dev), the
// library podman, containerd and CRI-O call plugins with: it runs a configuration list the
// way they do (result cache, prevResult for CHECK and DEL, the plugins' results parsed and
// converted by libcni's own types), so the CNI specs see cnet through the reference
// implementation of the runtime side.
//
//	libcni add|check|del CONFLIST PLUGINDIR CACHEDIR ID NETNS [RUNTIMECONFIG-JSON]
//	libcni version PLUGINDIR TYPE
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/containernetworking/cni/libcni"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	ctx := context.Background()
	if len(os.Args) == 4 && os.Args[1] == "version" {
		cfg := libcni.NewCNIConfig([]string{os.Args[2]}, nil)
		info, err := cfg.GetVersionInfo(ctx, os.Args[3])
		if err != nil {
			fail(err)
		}
		b, _ := json.Marshal(info.SupportedVersions())
		fmt.Println(string(b))
		return
	}
	if len(os.Args) < 7 {
		fmt.Fprintln(os.Stderr, "usage: libcni add|check|del CONFLIST PLUGINDIR CACHEDIR ID NETNS [RUNTIMECONFIG]")
		os.Exit(2)
	}
	list, err := libcni.ConfListFromFile(os.Args[2])
	if err != nil {
		fail(err)
	}
	cfg := libcni.NewCNIConfigWithCacheDir([]string{os.Args[3]}, os.Args[4], nil)
	rt := &libcni.RuntimeConf{ContainerID: os.Args[5], NetNS: os.Args[6], IfName: "eth0"}
	if len(os.Args) > 7 {
		if err := json.Unmarshal([]byte(os.Args[7]), &rt.CapabilityArgs); err != nil {
			fail(err)
		}
	}
	switch os.Args[1] {
	case "add":
		r, err := cfg.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail(err)
		}
		if err := r.Print(); err != nil {
			fail(err)
		}
	case "check":
		err = cfg.CheckNetworkList(ctx, list, rt)
	case "del":
		err = cfg.DelNetworkList(ctx, list, rt)
	default:
		err = fmt.Errorf("unknown command %s", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}
