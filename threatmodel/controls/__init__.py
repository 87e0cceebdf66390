"""Controls derived from declared artifacts: audit watches, scan steps and SHA-256 manifests."""
