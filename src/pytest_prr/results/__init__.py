"""What a run found: the result record and its roll-up into the results document, waivers,
attestations, the exit policy, and one account's run. Nothing here knows pytest."""
