const axios = require('axios');
const crypto = require('crypto');

const BASE_URL = 'http://127.0.0.1:34441';
const API_KEY = process.env.COINUT_API_KEY;
const API_SECRET = process.env.COINUT_API_SECRET;

function createSignature(method, path, body = {}) {
  const timestamp = Math.floor(Date.now() / 1000).toString();
  const nonce = crypto.randomUUID();
  const host = new URL(BASE_URL).host;
  const requestBody = method.toUpperCase() === 'GET' ? '' : JSON.stringify(body);
  const bodyHash = requestBody
    ? crypto.createHash('sha256').update(requestBody).digest('hex')
    : '';
  const payload = [
    method.toUpperCase(),
    host,
    path,
    '',
    bodyHash,
    timestamp,
    nonce,
  ].join('\n');
  const signature = crypto.createHmac('sha256', API_SECRET).update(payload).digest('hex');
  return { timestamp, nonce, signature };
}

async function coinutRequest(method, path, body) {
  const { timestamp, nonce, signature } = createSignature(method, path, body);

  const { data } = await axios({
    method,
    url: `${BASE_URL}${path}`,
    headers: {
      'Content-Type': 'application/json',
      'X-API-Key': API_KEY,
      'X-Timestamp': timestamp,
      'X-Nonce': nonce,
      'X-Signature': signature,
    },
    data: body,
  });
  return data;
}

async function addBankAccount(customerId, currency, bankDetails) {
  const fieldMap = {
    USD: ['bankName', 'accountNo', 'aba'],
    EUR: ['bankName', 'accountNo', 'swift'],
    GBP: ['bankName', 'accountNo', 'swift'],
    CAD: ['bankName', 'accountNo', 'institutionNumber', 'transit'],
    AUD: ['bankName', 'accountNo', 'bsb'],
  };

  const body = {
    customerId,
    currency,
    ...bankDetails,
  };

  const { bankAccountId } = await coinutRequest('POST', '/bank-account/add', body);
  return bankAccountId;
}

async function createOfframpFlow(customerId, network, bankAccountId) {
  const { data } = await coinutRequest('POST', '/autoramp-flow/offramp', {
    from: {
      customerId,
      currency: 'USDT',
      network,
    },
    to: bankAccountId,
  });
  return data;
}

// Execute full offramp
async function executeOfframp(customerId, network, bankAccountId) {
  const flow = await createOfframpFlow(customerId, network, bankAccountId);

  return {
    flowId: flow.flowId,
    depositAddress: flow.data.depositAddress,
    network: flow.data.network,
  };
}

module.exports = { addBankAccount, createOfframpFlow, executeOfframp };
