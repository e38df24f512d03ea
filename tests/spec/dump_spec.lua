-- Dumps under churn: while another process keeps adding and removing addresses, every listing
-- is whole (each stable address exactly once). The kernel flags a dump it had to interrupt
-- (NLM_F_DUMP_INTR); cnet retries those instead of returning a half-read list.
local cnet = require "cnet"

describe("a dump while the kernel's tables change", function()
  it("never returns a half-read or doubled address list", function()
    local br = H.name("dbr")
    H.sh("ip link add " .. br .. " type bridge")
    local batch = {}
    for i = 1, 400 do batch[#batch + 1] = ("addr add 10.90.%d.%d/32 dev %s"):format(i // 200, i % 200 + 1, br) end
    H.ip_batch(batch)
    -- the churn: a shell loop in the background, bounded in time
    local churn = ("timeout 20 sh -c 'while :; do ip addr add 10.91.0.1/32 dev %s; ip addr del 10.91.0.1/32 dev %s; done' >/dev/null 2>&1 & echo $!")
      :format(br, br)
    local pid = H.sh(churn)
    for _ = 1, 60 do
      local seen, stable = {}, 0
      for _, a in ipairs(cnet.addr.list(br)) do
        assert.is_nil(seen[a.address], "listed twice: " .. a.address)
        seen[a.address] = true
        if a.address:find("^10%.90%.") then stable = stable + 1 end
      end
      assert.are.equal(400, stable)
    end
    H.try("kill " .. pid)
    H.sh("ip link del " .. br)
  end)
end)
