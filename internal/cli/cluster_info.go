package cli

// `samsa cluster info`: the cluster id, the controller and the brokers.

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newClusterCmd returns `samsa cluster` with its subcommands.
func newClusterCmd() *cobra.Command {
	g := &globalOptions{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Show the cluster",
		Args:  cobra.NoArgs,
	}
	addGlobalFlags(cmd, g)
	cmd.AddCommand(newClusterInfoCmd(g))
	return cmd
}

// clusterBroker is one broker as `samsa cluster info` shows it.
type clusterBroker struct {
	NodeID int32  `json:"node_id"`
	Host   string `json:"host"`
	Port   int32  `json:"port"`
	Rack   string `json:"rack,omitempty"`
}

func newClusterInfoCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "info",
		Short: "Show the cluster id, the controller and the brokers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			adm, err := g.admin(ctx)
			if err != nil {
				return err
			}
			defer adm.Close()
			rctx, cancel := withTimeout(ctx)
			defer cancel()
			md, err := adm.BrokerMetadata(rctx)
			if err != nil {
				return fmt.Errorf("cluster metadata: %w", err)
			}
			brokers := make([]clusterBroker, 0, len(md.Brokers))
			for _, b := range md.Brokers {
				cb := clusterBroker{NodeID: b.NodeID, Host: b.Host, Port: b.Port}
				if b.Rack != nil {
					cb.Rack = *b.Rack
				}
				brokers = append(brokers, cb)
			}
			if g.output == "json" {
				return writeJSON(cmd.OutOrStdout(), struct {
					ClusterID  string          `json:"cluster_id"`
					Controller int32           `json:"controller"`
					Brokers    []clusterBroker `json:"brokers"`
				}{md.Cluster, md.Controller, brokers})
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Cluster ID: %s\n", orDash(md.Cluster))
			controller := "none"
			if md.Controller >= 0 {
				controller = fmt.Sprint(md.Controller)
			}
			fmt.Fprintf(out, "Controller: %s\n\n", controller)
			t := newTable("BROKER", "HOST", "PORT", "RACK")
			for _, b := range brokers {
				t.add(b.NodeID, b.Host, b.Port, orDash(b.Rack))
			}
			return t.write(out)
		},
	}
}
