const sample = require('./guide_sample.cjs');
const [customerId, accountName] = process.argv.slice(2);
(async () => {
  const bankAccountId = await sample.addBankAccount(customerId, 'GBP', { bankName: 'Barclays', accountNo: '41011166', sortCode: '200915', swift: 'BARCGB22', accountName });
  const result = await sample.executeOfframp(customerId, 'MATIC', bankAccountId);
  console.log("GUIDE_SAMPLE_RESULT " + JSON.stringify({ bankAccountId, result }));
})().catch((err) => {
  console.error(err && err.response ? JSON.stringify({ status: err.response.status, data: err.response.data }) : err);
  process.exit(1);
});
